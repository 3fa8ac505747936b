"""``recon predict`` for ``mri_kspace``: a fastMRI HDF5 file, a NIfTI volume or a 2D image.

- fastMRI ``.h5``: every slice is reconstructed from its k-space. A file with a ``mask``
  dataset (test/challenge data) is already undersampled and used as is; a fully sampled file is
  undersampled retrospectively with the run's mask (``mask.kind``, ``mask.acceleration``,
  ``mask.center_fraction``, seed ``mask.seed``). Multi-coil: coil maps estimated from the
  calibration region, the output is the coil-combined magnitude (equal to the root-sum-of-squares
  for consistent data). The output is centre-cropped to the file's reference size when it holds
  one (320x320), written as NIfTI ``(H, W, slices)`` (identity affine: fastMRI files carry no
  geometry) or, for a ``.h5`` output, as fastMRI's submission layout (``reconstruction``
  ``(slices, H, W)``), in the file's intensity units.
- NIfTI / DICOM / PNG (a magnitude image): normalised as in training, undersampled retrospectively with
  the run's simulation (smooth phase, coils, the run's mask with seed ``mask.seed``), then
  reconstructed; volumes slice by slice along ``data.axis``, written in the input's format
  (NIfTI header and pixel type, or a derived DICOM series) with the same affine and the
  original intensity scale (:func:`recon.api.write_like`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from recon.api import RunConfig
from recon.api import (is_dicom_file, is_image, is_nifti, output_kind, predict_volume, read_any, read_image, write_like,
                       write_nifti)
from recon.api import check_finite
from recon.api import DataError, UsageError
from recon.api import iterate_batches, split_generated
from recon_kspace.data import Simulation
from recon_kspace.fastmri_data import HDF5_SUFFIXES, center_crop, measured_item
from recon.api import FourierParams, coil_combine_rss, validate_mask
from recon_kspace.simulate import FOURIER


@torch.no_grad()
def reconstruct(parts: Any, items: list[dict[str, Tensor]], device: torch.device,
                crop: tuple[int, int] | None = None, batch_size: int = 4) -> np.ndarray:
    """Magnitudes ``(N, h, w)`` of the reconstructions of ``items`` by ``parts.generator``
    (batched by shape)."""
    generator = parts.generator
    generator.eval()
    out = []
    for batch in iterate_batches(items, batch_size):
        batch = {k: v.to(device) for k, v in batch.items()}
        mag, _ = split_generated(parts.generate(generator, batch))
        if crop is not None:
            mag = center_crop(mag, crop)
        out.append(mag[:, 0].float().cpu().numpy())
    return np.concatenate(out)


def _file_mask(raw: np.ndarray, width: int, path: Path) -> Tensor:
    """A fastMRI file's own ``mask`` ``(W,)`` as a bool ``(1, W)`` mask, checked against the k-space."""
    mask = torch.from_numpy(np.asarray(raw).reshape(-1) != 0).reshape(1, -1)
    try:
        validate_mask(mask, (1, width), name=f"{path.name}: mask")
    except UsageError as exc:
        raise DataError(str(exc)) from None
    return mask


def predict_fastmri(parts: Any, cfg: RunConfig, path: Path, output: Path,
                    device: torch.device) -> Path:
    """Reconstruct every slice of a fastMRI file into ``output`` (NIfTI or fastMRI ``.h5``)."""
    from recon_kspace.fastmri_io import read_fastmri

    if not (is_nifti(output) or output.suffix.lower() in HDF5_SUFFIXES):
        raise UsageError(f"{output}: a fastMRI input needs a .nii/.nii.gz (or .h5) output")
    vol = read_fastmri(path)
    kspace = torch.from_numpy(vol.kspace)
    kspace = kspace.unsqueeze(1) if kspace.ndim == 3 else kspace  # (S, C, H, W)
    if not torch.isfinite(torch.view_as_real(kspace)).all():
        raise DataError(f"{path}: k-space contains NaN or Inf values")
    h, w = kspace.shape[-2:]
    if vol.mask is not None:
        mask = _file_mask(vol.mask, w, path)  # test/challenge data: already undersampled
    else:
        mask = Simulation.from_config(cfg).mask((h, w), cfg.mask.seed)
    target = vol.target
    crop = (min(target.shape[-2], h), min(target.shape[-1], w)) if target is not None else (h, w)
    if target is not None and float(target.max()) > 0:
        scale = float(target.max())  # as in training: the reference volume's maximum
    else:
        # the zero-filled maximum: the root-sum-of-squares of the coil images (no maps needed)
        coil_images = FOURIER.coil_images(FOURIER.mask_kspace(kspace, FourierParams(mask)))
        scale = float(coil_combine_rss(coil_images).max())
    if not scale > 0:
        raise DataError(f"{path}: the undersampled k-space is all zeros")
    items = [measured_item(k / scale, mask, crop) for k in kspace]
    result = reconstruct(parts, items, device, crop) * scale  # (S, h, w)
    output.parent.mkdir(parents=True, exist_ok=True)
    if is_nifti(output):
        return write_nifti(output, np.ascontiguousarray(result.transpose(1, 2, 0)), np.eye(4))
    import h5py

    with h5py.File(output, "w") as f:
        f.create_dataset("reconstruction", data=result.astype(np.float32))
    return output


def _simulated_items(cfg: RunConfig, images: np.ndarray) -> list[dict[str, Tensor]]:
    """Retrospective undersampling of magnitude slices ``(S, H, W)`` in [0, 1] with the run's
    simulation and the mask of seed ``mask.seed``."""
    sim = dataclasses.replace(Simulation.from_config(cfg), fixed_mask_seed=cfg.mask.seed)
    if min(images.shape[-2:]) < 2:
        raise DataError(f"slices of {images.shape[-2]}x{images.shape[-1]} are too small to undersample")
    return [sim.item(torch.from_numpy(np.ascontiguousarray(s[None], dtype=np.float32)), cfg.mask.seed, i)
            for i, s in enumerate(images)]


def predict_file(parts: Any, cfg: RunConfig, input_path: Path, output_path: Path,
                 device: torch.device) -> Path:
    """Reconstruct ``input_path`` into ``output_path`` (see the module docstring)."""
    if input_path.suffix.lower() in HDF5_SUFFIXES:
        return predict_fastmri(parts, cfg, input_path, output_path, device)
    if is_nifti(input_path) or input_path.is_dir() or is_dicom_file(input_path):  # a volume: NIfTI or DICOM
        volume = read_any(input_path)
        if volume.spatial_dims != 3:
            raise DataError(f"{input_path}: expected a volume, got a {volume.spatial_dims}D image")
        output_kind(output_path, volume)  # NIfTI, or a DICOM series for a DICOM input
        slices_of = lambda inputs: reconstruct(parts, _simulated_items(cfg, inputs[:, 0]), device)[:, None]  # noqa: E731
        result = predict_volume(parts, cfg, volume, device, run=slices_of)
        return write_like(output_path, result.array, result.affine, volume,
                          "recon predict: mri_kspace (simulated sampling)")
    if is_image(input_path):
        if not is_image(output_path):
            raise UsageError(f"{output_path}: an image input needs an image output (.png, .tif ...)")
        image = read_image(input_path)
        check_finite(image.array, str(input_path))
        gray = np.clip(image.array.mean(0), 0, 1)
        out = reconstruct(parts, _simulated_items(cfg, gray[None]), device)[:1]
        scale = float(image.norm["scale"]) if image.norm.get("method") == "dtype" else 1.0  # the file's units
        return write_like(output_path, out * scale, image.affine, image, "recon predict: mri_kspace",
                          unit_range=scale == 1.0)
    raise DataError(f"{input_path}: unsupported input (expected fastMRI .h5, .nii/.nii.gz or PNG/JPEG/TIFF)")
