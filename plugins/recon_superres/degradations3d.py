"""3D degradations for volumetric SR: ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) float tensors.

The names of :mod:`recon_superres.degradations` in 3D, on core's operators
(:mod:`recon.physics.resolution`): ``blur`` (3D Gaussian then ``s^3`` block mean) and
``kspace`` (the central ``1/s`` of the 3D k-space, magnitude, ``/ s^1.5``); the classical
baseline is trilinear upsampling (torch has no tricubic).
"""

from __future__ import annotations

from torch import Tensor

from recon.api import BlurDownsample, KspaceTruncation, upsample
from recon_superres.degradations import DEGRADATIONS_3D, make_operator

__all__ = ["DEGRADATIONS_3D", "degrade3d", "blur_downsample3d", "kspace_truncate3d", "trilinear_upsample"]


def degrade3d(volumes: Tensor, kind: str, scale: int, sigma: float = 1.0) -> Tensor:
    """HR ``(N?, C, D, H, W)`` -> LR ``(N?, C, D/s, H/s, W/s)`` by degradation ``kind`` (``blur`` or ``kspace``)."""
    return make_operator(kind, scale, sigma, spatial_dims=3)(volumes)


def blur_downsample3d(volumes: Tensor, scale: int, sigma: float = 1.0) -> Tensor:
    """3D Gaussian blur then average pooling by ``scale``."""
    return BlurDownsample(scale, sigma, spatial_dims=3)(volumes)


def kspace_truncate3d(volumes: Tensor, scale: int) -> Tensor:
    """Keep the central ``1/scale`` of the centred 3D k-space along each axis; magnitude."""
    return KspaceTruncation(scale, spatial_dims=3)(volumes)


def trilinear_upsample(volumes: Tensor, scale: int) -> Tensor:
    """Trilinear upsampling by ``scale`` (the 3D classical baseline)."""
    return upsample(volumes, scale, 3)
