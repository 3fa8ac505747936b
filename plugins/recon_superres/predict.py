"""``recon predict`` for the SR tasks: a NIfTI volume slice by slice, or a 2D image.

The input is the low-resolution acquisition itself (no degradation is applied). A NIfTI
volume is normalised as in training, super-resolved slice by slice along ``data.axis``,
mapped back to its original intensities and written with the affine scaled for the new
in-plane voxel size (voxel centres stay consistent with the original field of view).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from recon.api import RunConfig
from recon.api import is_image, is_nifti, read_image, read_nifti, write_image, write_nifti
from recon.api import check_finite, denormalize, normalize_percentile
from recon.api import DataError, UsageError


def upsampled_affine(affine: np.ndarray, scale: int, axes: tuple[int, ...]) -> np.ndarray:
    """The affine of a grid ``scale`` times finer along ``axes`` covering the same extent.

    New voxel ``i`` sits at old voxel coordinate ``(i + 0.5) / scale - 0.5``.
    """
    transform = np.eye(4)
    for axis in axes:
        transform[axis, axis] = 1.0 / scale
        transform[axis, 3] = (1.0 / scale - 1.0) / 2.0
    return affine @ transform


@torch.no_grad()
def _apply(generator: nn.Module, images: np.ndarray, device: torch.device, batch: int = 8) -> np.ndarray:
    """Run the generator over ``(N, C, h, w)`` images in batches -> ``(N, C, H, W)``."""
    outputs = []
    for start in range(0, images.shape[0], batch):
        chunk = torch.from_numpy(np.ascontiguousarray(images[start:start + batch])).to(device)
        outputs.append(generator(chunk).clamp(0, 1).float().cpu().numpy())
    return np.concatenate(outputs)


def predict_file(task: Any, cfg: RunConfig, generator: nn.Module, input_path: Path, output_path: Path,
                 device: torch.device) -> Path:
    """Super-resolve ``input_path`` into ``output_path`` (NIfTI -> NIfTI, image -> image)."""
    scale = cfg.data.scale
    if is_nifti(input_path):
        if not is_nifti(output_path):
            raise UsageError(f"{output_path}: a NIfTI input needs a .nii or .nii.gz output")
        volume = read_nifti(input_path)
        if task.channels != 1:
            raise UsageError(f"task {task.name} works on RGB images, not NIfTI volumes")
        normed = normalize_percentile(volume)
        axis = cfg.data.axis
        moved = np.moveaxis(normed.array[0], axis, 0)[:, None]  # (slices, 1, h, w)
        if min(moved.shape[-2:]) < 4:
            raise DataError(f"{input_path}: slices of {moved.shape[-2]}x{moved.shape[-1]} are too small")
        high = _apply(generator, moved, device)[:, 0]  # (slices, H, W)
        result = denormalize(np.moveaxis(high, 0, axis), normed.norm)
        in_plane = tuple(a for a in range(3) if a != axis)
        return write_nifti(output_path, result, upsampled_affine(volume.affine, scale, in_plane))
    if is_image(input_path):
        image = read_image(input_path)
        check_finite(image.array, str(input_path))
        array = image.array
        if array.shape[0] != task.channels:
            array = array.mean(0, keepdims=True) if task.channels == 1 else np.repeat(array[:1], 3, axis=0)
        high = _apply(generator, array[None], device)[0]
        return write_image(output_path, high)
    raise DataError(f"{input_path}: unsupported input (expected .nii/.nii.gz or PNG/JPEG/TIFF)")
