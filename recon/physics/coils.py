"""Coil sensitivity maps (simulated) and multi-coil combination.

Layout: coil images, coil k-space and maps are complex ``(..., C, H, W)`` — the coil axis is
always dim ``-3``; a combined image is complex ``(..., H, W)``.

* ``sense_expand(x, S)_c = S_c * x``  (image -> coil images, the forward model's coil part)
* ``sense_combine(y, S) = sum_c conj(S_c) * y_c``  (its adjoint; with ``sum_c |S_c|^2 = 1`` it is
  also its left inverse, so ``sense_combine(sense_expand(x, S), S) == x``)
* ``coil_combine_rss(y) = sqrt(sum_c |y_c|^2)``  (magnitude only; equals ``|x|`` when the maps
  are normalised, whatever their phase)

MONAI has ``sensitivity_map_expand``/``sensitivity_map_reduce`` in
``monai.apps.reconstruction.networks.nets.utils``, but they operate on k-space in the
``(..., 2)`` real/imag layout (each wraps an FFT); these are the image-domain operators on
native complex tensors, which is what data-consistency layers need.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from recon.errors import UsageError
from recon.physics.fft import check_complex, rss

__all__ = ["simulate_coil_maps", "coil_combine_rss", "sense_combine", "sense_expand", "normalize_maps"]


def normalize_maps(maps: Tensor, eps: float = 1e-12) -> Tensor:
    """Scale complex maps ``(..., C, H, W)`` so that ``sum_c |S_c|^2 == 1`` at every pixel (where nonzero)."""
    check_complex(maps, "coil maps", min_dim=3)
    norm = rss(maps, dim=-3).clamp_min(eps)
    return maps / norm.unsqueeze(-3)


def simulate_coil_maps(
    num_coils: int,
    shape: Sequence[int],
    *,
    coil_distance: float = 1.3,
    loop_radius: float = 0.9,
    phase_scale: float = 1.0,
    seed: int | None = None,
    dtype: torch.dtype = torch.complex64,
    device: torch.device | str | None = None,
) -> Tensor:
    """Smooth birdcage-like coil maps, complex ``(C, H, W)``, normalised to ``sum_c |S_c|^2 = 1``.

    Coil ``c`` is a loop of radius ``loop_radius`` centred on a circle of radius
    ``coil_distance`` around the field of view (coordinates span [-1, 1] across the image), at
    angle ``2 pi c / C`` (+ a random rotation when ``seed`` is given). Its magnitude follows the
    on-axis Biot-Savart fall-off ``(a^2 / (a^2 + d^2))^(3/2)`` with ``d`` the distance to the
    coil; its phase is the coil angle plus a smooth spatial term ``phase_scale * (r . u_c)``
    along the coil's direction ``u_c``. ``num_coils == 1`` gives a uniform map of ones.
    """
    c = int(num_coils)
    if c < 1:
        raise UsageError(f"num_coils must be >= 1, got {num_coils!r}")
    if len(shape) < 2:
        raise UsageError(f"coil map shape must be (H, W), got {shape!r}")
    if not dtype.is_complex:
        raise UsageError(f"coil maps need a complex dtype, got {dtype}")
    h, w = int(shape[-2]), int(shape[-1])
    if c == 1:
        return torch.ones(1, h, w, dtype=dtype, device=device)
    gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    rotation = 0.0 if gen is None else float(torch.rand((), generator=gen)) * 2 * math.pi
    y = torch.linspace(-1.0, 1.0, h, dtype=torch.float64)
    x = torch.linspace(-1.0, 1.0, w, dtype=torch.float64)
    yy, xx = torch.meshgrid(y, x, indexing="ij")
    maps = []
    a2 = loop_radius**2
    for i in range(c):
        theta = 2 * math.pi * i / c + rotation
        ux, uy = math.cos(theta), math.sin(theta)
        d2 = (xx - coil_distance * ux) ** 2 + (yy - coil_distance * uy) ** 2
        mag = (a2 / (a2 + d2)) ** 1.5
        phase = theta + phase_scale * (xx * ux + yy * uy)
        maps.append(torch.polar(mag, phase))
    out = normalize_maps(torch.stack(maps))
    return out.to(dtype=dtype, device=device)


def _check_pair(coil: Tensor, maps: Tensor, coil_name: str) -> None:
    check_complex(coil, coil_name, min_dim=3)
    check_complex(maps, "coil maps", min_dim=3)
    try:
        torch.broadcast_shapes(coil.shape, maps.shape)
    except RuntimeError:
        raise UsageError(
            f"{coil_name} shape {tuple(coil.shape)} does not match coil maps {tuple(maps.shape)} (..., C, H, W)"
        ) from None


def coil_combine_rss(coil_images: Tensor) -> Tensor:
    """Root-sum-of-squares over coils: complex ``(..., C, H, W)`` -> real ``(..., H, W)``."""
    check_complex(coil_images, "coil images", min_dim=3)
    return rss(coil_images, dim=-3)


def sense_combine(coil_images: Tensor, maps: Tensor) -> Tensor:
    """``sum_c conj(S_c) * y_c``: complex ``(..., C, H, W)`` x maps ``(..., C, H, W)`` -> ``(..., H, W)``."""
    _check_pair(coil_images, maps, "coil images")
    return (maps.conj() * coil_images).sum(dim=-3)


def sense_expand(image: Tensor, maps: Tensor) -> Tensor:
    """``S_c * x``: complex image ``(..., H, W)`` x maps ``(..., C, H, W)`` -> coil images ``(..., C, H, W)``."""
    check_complex(image, "image", min_dim=2)
    check_complex(maps, "coil maps", min_dim=3)
    if tuple(image.shape[-2:]) != tuple(maps.shape[-2:]):
        raise UsageError(f"image (H, W) {tuple(image.shape[-2:])} does not match coil maps {tuple(maps.shape)}")
    return image.unsqueeze(-3) * maps
