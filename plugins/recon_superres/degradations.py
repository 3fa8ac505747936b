"""Degradations that make low-resolution inputs from high-resolution targets.

Functional forms on ``(N, C, H, W)`` (or ``(C, H, W)``) float tensors; ``H`` and ``W`` must
be multiples of ``scale``. Outputs are ``(..., H/scale, W/scale)``.

- ``blur``: Gaussian blur (sigma in HR pixels) then area downsampling (mean of each
  ``scale`` x ``scale`` block, so LR pixel centres sit where bicubic upsampling expects them).
- ``bicubic``: antialiased bicubic downsampling (MATLAB ``imresize`` style), the standard
  for natural-image SR benchmarks.
- ``kspace``: k-space truncation, the usual MRI model of a lower-resolution acquisition:
  keep the central ``1/scale`` of k-space along each axis, inverse FFT, magnitude.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def _batched(fn):  # noqa: ANN001, ANN202 - tiny decorator: accept (C,H,W) too
    def wrapper(images: Tensor, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if images.dim() == 3:
            return fn(images[None], *args, **kwargs)[0]
        return fn(images, *args, **kwargs)
    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


def gaussian_kernel1d(sigma: float, dtype: torch.dtype = torch.float32) -> Tensor:
    """A normalised 1D Gaussian of radius ceil(3 sigma)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=dtype)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    return kernel / kernel.sum()


@_batched
def gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur with reflect padding; ``sigma <= 0`` returns the input."""
    if sigma <= 0:
        return images
    kernel = gaussian_kernel1d(sigma, images.dtype).to(images.device)
    c = images.shape[1]
    pad = kernel.numel() // 2
    out = F.pad(images, (pad, pad, 0, 0), mode="reflect")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    out = F.pad(out, (0, 0, pad, pad), mode="reflect")
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


@_batched
def blur_downsample(images: Tensor, scale: int, sigma: float = 1.0) -> Tensor:
    """Gaussian blur then area downsampling by ``scale``."""
    return F.avg_pool2d(gaussian_blur(images, sigma), scale)


@_batched
def bicubic_downsample(images: Tensor, scale: int) -> Tensor:
    """Antialiased bicubic downsampling by ``scale`` (MATLAB imresize style)."""
    h, w = images.shape[-2:]
    return F.interpolate(images, size=(h // scale, w // scale), mode="bicubic", antialias=True,
                         align_corners=False)


@_batched
def kspace_truncate(images: Tensor, scale: int) -> Tensor:
    """Keep the central ``1/scale`` of the centred orthonormal 2D k-space; magnitude image.

    The result is divided by ``scale`` so intensities keep their range (the orthonormal
    inverse transform on a grid ``scale^2`` times smaller multiplies amplitudes by ``scale``).
    """
    h, w = images.shape[-2:]
    kspace = torch.fft.fftshift(torch.fft.fft2(torch.fft.ifftshift(images.float(), dim=(-2, -1)), norm="ortho"),
                                dim=(-2, -1))
    lh, lw = h // scale, w // scale
    top, left = h // 2 - lh // 2, w // 2 - lw // 2  # keep the DC sample at the centre
    center = kspace[..., top:top + lh, left:left + lw]
    low = torch.fft.fftshift(torch.fft.ifft2(torch.fft.ifftshift(center, dim=(-2, -1)), norm="ortho"),
                             dim=(-2, -1))
    return (low.abs() / scale).to(images.dtype)


@_batched
def bicubic_upsample(images: Tensor, scale: int) -> Tensor:
    """Bicubic upsampling by ``scale`` (the classical SR baseline)."""
    return F.interpolate(images, scale_factor=scale, mode="bicubic", align_corners=False)


@_batched
def kspace_zero_pad(images: Tensor, scale: int) -> Tensor:
    """Zero-padded k-space upsampling (sinc interpolation), the MRI scanner's baseline."""
    h, w = images.shape[-2:]
    kspace = torch.fft.fftshift(torch.fft.fft2(torch.fft.ifftshift(images.float(), dim=(-2, -1)), norm="ortho"),
                                dim=(-2, -1))
    H, W = h * scale, w * scale
    top, left = H // 2 - h // 2, W // 2 - w // 2
    padded = torch.zeros(*images.shape[:-2], H, W, dtype=kspace.dtype, device=images.device)
    padded[..., top:top + h, left:left + w] = kspace
    high = torch.fft.fftshift(torch.fft.ifft2(torch.fft.ifftshift(padded, dim=(-2, -1)), norm="ortho"),
                              dim=(-2, -1))
    return (high.abs() * scale).to(images.dtype)


def degrade(images: Tensor, kind: str, scale: int, sigma: float = 1.0) -> Tensor:
    """Dispatch to a degradation by name (``blur``, ``bicubic`` or ``kspace``)."""
    if kind == "blur":
        return blur_downsample(images, scale, sigma)
    if kind == "bicubic":
        return bicubic_downsample(images, scale)
    if kind == "kspace":
        return kspace_truncate(images, scale)
    raise ValueError(f"unknown degradation '{kind}'")
