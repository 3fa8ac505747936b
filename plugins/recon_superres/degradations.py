"""Degradations of the SR tasks: ``data.degradation`` names -> core's forward operators.

The operators live in :mod:`recon.physics.resolution` (one implementation, reused by any
plugin); this module is the task's policy — which names exist and what they mean:

- ``blur``: Gaussian blur (``data.blur_sigma`` HR pixels) then block mean over ``scale^d``
  blocks (:class:`recon.physics.BlurDownsample`), 2D and 3D.
- ``bicubic``: antialiased bicubic downsampling, MATLAB ``imresize`` style, the standard of
  natural-image SR benchmarks (:class:`recon.physics.BicubicDownsample`), 2D only.
- ``kspace``: k-space truncation, the usual MRI model of a lower-resolution acquisition: keep
  the central ``1/scale`` of k-space along each axis, inverse FFT, magnitude
  (:class:`recon.physics.KspaceTruncation`), 2D and 3D.

Inputs are ``(C, *spatial)`` or ``(N, C, *spatial)`` float tensors whose spatial sizes are
multiples of ``scale``. The classical baselines are the operators' pseudo-inverses: bicubic
(2D) / trilinear (3D) upsampling, and zero-padded k-space for ``kspace``.
"""

from __future__ import annotations

from torch import Tensor

from recon.api import BicubicDownsample, BlurDownsample, KspaceTruncation, Operator, upsample

__all__ = ["DEGRADATIONS", "DEGRADATIONS_3D", "make_operator", "degrade", "bicubic_upsample"]

DEGRADATIONS = ("blur", "bicubic", "kspace")
DEGRADATIONS_3D = ("blur", "kspace")


def make_operator(kind: str, scale: int, sigma: float = 1.0, spatial_dims: int = 2) -> Operator:
    """The forward operator of degradation ``kind`` (``blur``, ``bicubic``, ``kspace``) in 2D or 3D."""
    if spatial_dims == 3 and kind not in DEGRADATIONS_3D:
        raise ValueError(f"unknown 3D degradation '{kind}' (valid: {', '.join(DEGRADATIONS_3D)})")
    if kind == "blur":
        return BlurDownsample(scale, sigma, spatial_dims)
    if kind == "bicubic":
        return BicubicDownsample(scale)
    if kind == "kspace":
        return KspaceTruncation(scale, spatial_dims)
    raise ValueError(f"unknown degradation '{kind}'")


def degrade(images: Tensor, kind: str, scale: int, sigma: float = 1.0) -> Tensor:
    """HR ``(N?, C, H, W)`` -> LR ``(N?, C, H/scale, W/scale)`` by degradation ``kind``."""
    return make_operator(kind, scale, sigma)(images)


def bicubic_upsample(images: Tensor, scale: int) -> Tensor:
    """Bicubic upsampling by ``scale`` (the classical 2D SR baseline): ``(N?, C, h, w)`` -> ``(N?, C, h s, w s)``."""
    return upsample(images, scale, 2)
