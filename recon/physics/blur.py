"""Separable Gaussian blur of 2D images and 3D volumes (reflect padding).

Shapes: ``(N, C, H, W)`` for 2D, ``(N, C, D, H, W)`` for 3D; ``sigma`` in pixels (voxels).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["gaussian_kernel1d", "gaussian_blur"]


def gaussian_kernel1d(sigma: float, dtype: torch.dtype = torch.float32) -> Tensor:
    """A normalised 1D Gaussian of radius ``ceil(3 sigma)`` (at least 1): ``(2 r + 1,)``."""
    radius = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=dtype)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def _blur2d(images: Tensor, kernel: Tensor) -> Tensor:
    c, pad = images.shape[1], kernel.numel() // 2
    out = F.pad(images, (pad, pad, 0, 0), mode="reflect")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    out = F.pad(out, (0, 0, pad, pad), mode="reflect")
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _blur3d(volumes: Tensor, kernel: Tensor) -> Tensor:
    c, pad = volumes.shape[1], kernel.numel() // 2
    out = volumes
    for axis in range(3):
        shape = [1, 1, 1, 1, 1]
        shape[2 + axis] = -1
        padding = [0] * 6
        padding[2 * (2 - axis)] = padding[2 * (2 - axis) + 1] = pad
        out = F.pad(out, padding, mode="reflect")
        out = F.conv3d(out, kernel.view(shape).expand(c, 1, *kernel.view(shape).shape[2:]), groups=c)
    return out


def gaussian_blur(x: Tensor, sigma: float, spatial_dims: int = 2) -> Tensor:
    """Separable Gaussian blur of ``(N, C, *spatial)`` (``spatial_dims`` 2 or 3), same shape.

    2D blurs along W then H, 3D along D, H, W (each axis reflect-padded); ``sigma <= 0``
    returns the input.
    """
    if sigma <= 0:
        return x
    kernel = gaussian_kernel1d(sigma, x.dtype).to(x.device)
    if spatial_dims == 2:
        return _blur2d(x, kernel)
    if spatial_dims == 3:
        return _blur3d(x, kernel)
    raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}")
