"""3D degradations for volumetric SR: ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) float tensors.

Every spatial dim must be a multiple of ``scale``; outputs are ``(..., D/s, H/s, W/s)``.

- ``blur``: separable 3D Gaussian (sigma in HR voxels, reflect padding) then average pooling
  over ``s^3`` blocks (the 2D ``blur`` degradation in 3D).
- ``kspace``: keep the central ``1/s`` of the centred orthonormal 3D k-space along each axis,
  inverse FFT, magnitude, divided by ``s^1.5`` so intensities keep their range (the
  orthonormal inverse on a grid ``s^3`` times smaller multiplies amplitudes by ``s^1.5``) -- a
  lower-resolution 3D acquisition.
- ``trilinear_upsample``: the classical baseline (there is no tricubic in torch).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from recon_superres.degradations import gaussian_kernel1d

DEGRADATIONS_3D = ("blur", "kspace")


def _batched(fn):  # noqa: ANN001, ANN202 - accept (C, D, H, W) too
    def wrapper(volumes: Tensor, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if volumes.dim() == 4:
            return fn(volumes[None], *args, **kwargs)[0]
        return fn(volumes, *args, **kwargs)
    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


@_batched
def gaussian_blur3d(volumes: Tensor, sigma: float) -> Tensor:
    """Separable 3D Gaussian blur with reflect padding; ``sigma <= 0`` returns the input."""
    if sigma <= 0:
        return volumes
    kernel = gaussian_kernel1d(sigma, volumes.dtype).to(volumes.device)
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


@_batched
def blur_downsample3d(volumes: Tensor, scale: int, sigma: float = 1.0) -> Tensor:
    """3D Gaussian blur then average pooling by ``scale``."""
    return F.avg_pool3d(gaussian_blur3d(volumes, sigma), scale)


@_batched
def kspace_truncate3d(volumes: Tensor, scale: int) -> Tensor:
    """Keep the central ``1/scale`` of the centred 3D k-space along each axis; magnitude."""
    dims = (-3, -2, -1)
    kspace = torch.fft.fftshift(torch.fft.fftn(torch.fft.ifftshift(volumes.float(), dim=dims), dim=dims,
                                               norm="ortho"), dim=dims)
    sizes = [n // scale for n in volumes.shape[-3:]]
    starts = [n // 2 - s // 2 for n, s in zip(volumes.shape[-3:], sizes)]
    center = kspace[..., starts[0]:starts[0] + sizes[0], starts[1]:starts[1] + sizes[1],
                    starts[2]:starts[2] + sizes[2]]
    low = torch.fft.fftshift(torch.fft.ifftn(torch.fft.ifftshift(center, dim=dims), dim=dims, norm="ortho"), dim=dims)
    return (low.abs() / scale**1.5).to(volumes.dtype)


@_batched
def trilinear_upsample(volumes: Tensor, scale: int) -> Tensor:
    """Trilinear upsampling by ``scale`` (the 3D classical baseline)."""
    return F.interpolate(volumes, scale_factor=scale, mode="trilinear", align_corners=False)


def degrade3d(volumes: Tensor, kind: str, scale: int, sigma: float = 1.0) -> Tensor:
    """Dispatch to a 3D degradation by name (``blur`` or ``kspace``)."""
    if kind == "blur":
        return blur_downsample3d(volumes, scale, sigma)
    if kind == "kspace":
        return kspace_truncate3d(volumes, scale)
    raise ValueError(f"unknown 3D degradation '{kind}' (valid: {', '.join(DEGRADATIONS_3D)})")
