"""``recon predict`` for ``mri_motion``: correct a motion-corrupted NIfTI volume or 2D image.

The input is the corrupted acquisition itself (no motion is simulated). A NIfTI volume is
normalised as in training (0th-99.9th percentile to [0, 1]), corrected slice by slice along
``data.axis``, mapped back to its original intensities and written with the *same* affine
(the grid does not change). A PNG/JPEG/TIFF is corrected as one slice (RGB is averaged to
gray, the network is trained on magnitude images).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from recon.api import RunConfig
from recon.api import is_image, is_nifti, read_image, read_nifti, write_image, write_nifti
from recon.api import check_finite, denormalize, normalize_percentile
from recon.api import DataError, UsageError


@torch.no_grad()
def correct_slices(generator: nn.Module, slices: np.ndarray, device: torch.device, batch: int = 8) -> np.ndarray:
    """Run the generator over ``(N, 1, H, W)`` slices in [0, 1] -> ``(N, 1, H, W)`` clamped to [0, 1]."""
    outputs = []
    for start in range(0, slices.shape[0], batch):
        chunk = torch.from_numpy(np.ascontiguousarray(slices[start:start + batch], dtype=np.float32)).to(device)
        outputs.append(generator(chunk).clamp(0, 1).float().cpu().numpy())
    return np.concatenate(outputs)


def predict_file(cfg: RunConfig, generator: nn.Module, input_path: Path, output_path: Path,
                 device: torch.device) -> Path:
    """Correct ``input_path`` into ``output_path`` (NIfTI -> NIfTI with its affine, image -> image)."""
    if is_nifti(input_path):
        if not is_nifti(output_path):
            raise UsageError(f"{output_path}: a NIfTI input needs a .nii or .nii.gz output")
        volume = read_nifti(input_path)
        normed = normalize_percentile(volume)
        axis = cfg.data.axis
        slices = np.moveaxis(normed.array[0], axis, 0)[:, None]  # (slices, 1, h, w)
        if min(slices.shape[-2:]) < 2:
            raise DataError(f"{input_path}: slices of {slices.shape[-2]}x{slices.shape[-1]} along "
                            f"axis {axis} are too small (set data.axis when training)")
        corrected = correct_slices(generator, slices, device)[:, 0]
        result = denormalize(np.moveaxis(corrected, 0, axis), normed.norm)
        return write_nifti(output_path, result, volume.affine)
    if is_image(input_path):
        image = read_image(input_path)
        check_finite(image.array, str(input_path))
        gray = image.array.mean(0, keepdims=True)
        return write_image(output_path, correct_slices(generator, gray[None], device)[0])
    raise DataError(f"{input_path}: unsupported input (expected .nii/.nii.gz or PNG/JPEG/TIFF)")
