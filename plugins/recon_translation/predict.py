"""``recon predict`` for ``mri_translation``: synthesise the target contrast of a volume or image.

A 3D volume (NIfTI, a DICOM series folder, ``.npy``) is normalised as in training
(:func:`normalize_as_in_training`), translated slice by slice along ``data.axis`` and
written as NIfTI on the *same* grid (shape and affine kept; no reorientation). The output is
the synthetic target contrast in the normalised [0, 1] range of training: the source's
intensity scale says nothing about the target's, so it is not
mapped back. A PNG/JPEG/TIFF is translated as one slice (RGB averaged to gray).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from recon.api import RunConfig
from recon.api import LoadOptions, prepare
from recon.api import is_image, is_nifti, read_any, write_image, write_nifti
from recon.api import Volume, check_finite
from recon.api import DataError, UsageError


def normalize_as_in_training(cfg: RunConfig, volume: Volume) -> Volume:
    """Intensities in [0, 1] as the training data had them, on the file's own grid.

    A model trained on a built-in source (``mni152``, scaled by its maximum) gets the input
    divided by its maximum; one trained on the user's files gets ``data.normalize``
    (:func:`recon.data.preprocess.prepare`, percentile by default), without reorientation
    or resampling so the output keeps the input's shape and affine.
    """
    from recon.api import builtin_name

    if builtin_name(cfg.data.source) is None:
        return prepare(volume, LoadOptions(normalize=cfg.data.normalize, orientation="", spacing=()))
    check_finite(volume.array, volume.source)
    peak = float(volume.array.max())
    if peak <= 0:
        raise DataError(f"{volume.source}: no positive intensities to scale to [0, 1]")
    array = np.clip(volume.array / peak, 0.0, 1.0).astype(np.float32)
    return Volume(array, volume.affine, volume.source, {"method": "max", "offset": 0.0, "scale": peak})


@torch.no_grad()
def translate_slices(generator: nn.Module, slices: np.ndarray, device: torch.device, batch: int = 8) -> np.ndarray:
    """Run the generator over ``(N, 1, H, W)`` slices in [0, 1] -> ``(N, 1, H, W)`` clamped to [0, 1]."""
    outputs = []
    for start in range(0, slices.shape[0], batch):
        chunk = torch.from_numpy(np.ascontiguousarray(slices[start:start + batch], dtype=np.float32)).to(device)
        outputs.append(generator(chunk).clamp(0, 1).float().cpu().numpy())
    return np.concatenate(outputs)


def predict_file(cfg: RunConfig, generator: nn.Module, input_path: Path, output_path: Path,
                 device: torch.device) -> Path:
    """Translate ``input_path`` into ``output_path`` (volume -> NIfTI with its affine, image -> image)."""
    if not (is_nifti(input_path) or is_image(input_path) or input_path.is_dir()
            or input_path.suffix.lower() in (".npy", ".npz")):
        raise DataError(f"{input_path}: unsupported input "
                        "(expected .nii/.nii.gz, a DICOM folder, .npy or PNG/JPEG/TIFF)")
    volume = read_any(input_path)
    normed = normalize_as_in_training(cfg, volume)
    if normed.spatial_dims == 3:
        if not is_nifti(output_path):
            raise UsageError(f"{output_path}: a 3D input needs a .nii or .nii.gz output")
        axis = cfg.data.axis
        slices = np.moveaxis(normed.array[0], axis, 0)[:, None]  # (slices, 1, h, w)
        if min(slices.shape[-2:]) < 2:
            raise DataError(f"{input_path}: slices of {slices.shape[-2]}x{slices.shape[-1]} along "
                            f"axis {axis} are too small (set data.axis when training)")
        out = translate_slices(generator, slices, device)[:, 0]
        return write_nifti(output_path, np.moveaxis(out, 0, axis), volume.affine)
    if not is_image(output_path):
        raise UsageError(f"{output_path}: a 2D input needs an image output (.png, .jpg, .tif)")
    gray = normed.array.mean(0, keepdims=True)
    return write_image(output_path, translate_slices(generator, gray[None], device)[0])
