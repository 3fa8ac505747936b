"""Sampling a trained ProGAN generator: latents per seed, evaluation batches, PNG / NIfTI files.

The generator works in [-1, 1]; what leaves the task is mapped to [0, 1] by ``(x + 1) / 2``
and clamped (:func:`to_unit`). Latent ``i`` of seed ``s`` is drawn on the CPU from its own
generator seeded by ``(s, i)``: the same on every device and for every ``-n``. A generator
still growing (below its final level) is upsampled (nearest) to ``model.resolution``, as
ProGAN's own snapshots are, so every evaluation compares images of one size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor, nn

from recon.api import indexed_latents, signed_to_unit, unwrap_module

from recon_progan.layers import upsample_to

__all__ = ["latents", "sample_batch", "sample_images", "to_unit", "unwrap", "write_nifti_volumes", "write_pngs"]

# shared with every unconditional task (recon.generation), under the names this plugin uses
unwrap, latents, to_unit = unwrap_module, indexed_latents, signed_to_unit


@torch.no_grad()
def sample_images(generator: nn.Module, indices: range, seed: int, device: torch.device) -> Tensor:
    """Samples ``indices`` of ``seed`` at the final resolution: ``(n, C, R, R[, R])`` CPU, in [0, 1]."""
    G = cast(Any, unwrap(generator))
    z = latents(int(G.z_dim), seed, indices.start, len(indices)).to(device)
    was_training = G.training
    G.eval()
    try:
        images = G(z)
    finally:
        G.train(was_training)
    return to_unit(upsample_to(images, int(G.resolution))).cpu()


def sample_batch(generator: nn.Module, indices: range, seed: int, device: torch.device) -> Tensor:
    """Core's :attr:`recon.api.Parts.sampler`: ``(n, C, R, R)`` images in [0, 1]; a 3D generator's
    volumes as montages of their central slices ``(n, C, R, 3R)`` (:func:`recon_progan.data.montage`)."""
    images = sample_images(generator, indices, seed, device)
    if images.dim() == 5:
        from recon_progan.data import montage

        return montage(images)
    return images


def write_pngs(images: Tensor, out_dir: Path, start: int = 0) -> list[Path]:
    """Save ``(b, C, H, W)`` images in [0, 1] as 8-bit PNGs ``{start + i:06d}.png``."""
    from recon.api import write_image

    return [write_image(out_dir / f"{start + i:06d}.png", image.numpy()) for i, image in enumerate(images)]


def write_nifti_volumes(volumes: Tensor, out_dir: Path, voxel_mm: float, start: int = 0) -> list[Path]:
    """Save ``(b, C, R, R, R)`` volumes in [0, 1] as ``{start + i:06d}.nii.gz`` (channels averaged,
    RAS axes, ``voxel_mm`` isotropic voxels, centred on the origin)."""
    from recon.api import write_nifti

    paths = []
    for i, volume in enumerate(volumes):
        array = volume.float().mean(0).numpy()
        affine = np.diag([voxel_mm, voxel_mm, voxel_mm, 1.0])
        affine[:3, 3] = -voxel_mm * (np.asarray(array.shape) - 1) / 2
        paths.append(write_nifti(out_dir / f"{start + i:06d}.nii.gz", array, affine))
    return paths
