"""Resolution loss: the super-resolution forward operators, 2D and 3D.

Inputs are ``(C, *spatial)`` or ``(N, C, *spatial)`` float tensors (``spatial`` = ``(H, W)`` or
``(D, H, W)``, each a multiple of ``scale``); measurements are ``(..., n / scale)`` along every
spatial dim. All are deterministic (``sample`` returns ``None``).

- :class:`BlurDownsample`: Gaussian blur (sigma in HR pixels) then block mean over ``scale^d``
  blocks, so LR pixel centres sit where bicubic/trilinear upsampling expects them. Linear.
- :class:`BicubicDownsample`: antialiased bicubic downsampling (MATLAB ``imresize`` style), the
  standard of natural-image SR benchmarks; 2D only. Linear.
- :class:`KspaceTruncation`: a lower-resolution MR acquisition: keep the central ``1/scale`` of
  the centred orthonormal k-space along each axis, inverse FFT, magnitude, divided by
  ``scale^(d/2)`` so intensities keep their range. Not linear (the magnitude).

Pseudo-inverses are the classical baselines: :func:`upsample` (bicubic in 2D, trilinear in 3D;
torch has no tricubic) for the first two, zero-padded k-space (sinc) interpolation for the
third. None is the Moore-Penrose inverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import EllipsisType
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from recon.errors import UsageError
from recon.physics.blur import gaussian_blur
from recon.physics.fft import fftc, ifftc
from recon.physics.operator import LinearOperator, Operator, adjoint_by_autograd

__all__ = ["BlurDownsample", "BicubicDownsample", "KspaceTruncation", "upsample"]


def _batched(x: Tensor, spatial_dims: int, fn: Callable[[Tensor], Tensor]) -> Tensor:
    """Apply ``fn`` (on ``(N, C, *spatial)``) to ``(C, *spatial)`` or ``(N, C, *spatial)``."""
    if x.dim() == spatial_dims + 1:
        return fn(x[None])[0]
    if x.dim() != spatial_dims + 2:
        raise UsageError(f"expected (C, *spatial) or (N, C, *spatial) with {spatial_dims} spatial dims, "
                         f"got shape {tuple(x.shape)}")
    return fn(x)


def _check(scale: int, spatial_dims: int) -> None:
    if int(scale) != scale or scale < 1:
        raise UsageError(f"scale must be a positive integer, got {scale!r}")
    if spatial_dims not in (2, 3):
        raise UsageError(f"spatial_dims must be 2 or 3, got {spatial_dims!r}")


def upsample(y: Tensor, scale: int, spatial_dims: int = 2) -> Tensor:
    """The classical SR baseline: bicubic (2D) or trilinear (3D) upsampling by ``scale``,
    ``(N?, C, *spatial)`` -> ``(N?, C, *spatial * scale)`` (``align_corners=False``)."""
    mode = "bicubic" if spatial_dims == 2 else "trilinear"
    return _batched(y, spatial_dims, lambda t: F.interpolate(t, scale_factor=scale, mode=mode, align_corners=False))


def _hr_shape(y: Tensor, scale: int, spatial_dims: int) -> tuple[int, ...]:
    lead = y.shape[: y.dim() - spatial_dims]
    return (*lead, *(n * scale for n in y.shape[-spatial_dims:]))


@dataclass(frozen=True)
class BlurDownsample(LinearOperator):
    """Gaussian blur (``sigma`` HR pixels, reflect padding) then ``scale^d`` block mean.

    ``forward``: ``(N?, C, *spatial)`` -> ``(N?, C, *spatial / scale)``; ``adjoint`` the exact
    transpose; ``pseudo_inverse``: :func:`upsample`.
    """

    scale: int
    sigma: float = 1.0
    spatial_dims: int = 2

    def __post_init__(self) -> None:
        _check(self.scale, self.spatial_dims)

    @property
    def baseline_name(self) -> str:  # type: ignore[override]
        return "bicubic" if self.spatial_dims == 2 else "trilinear"

    def _apply(self, x: Tensor) -> Tensor:
        pool = F.avg_pool2d if self.spatial_dims == 2 else F.avg_pool3d
        return pool(gaussian_blur(x, self.sigma, self.spatial_dims), self.scale)

    def forward(self, x: Tensor, params: Any = None) -> Tensor:
        """HR ``(N?, C, *spatial)`` -> LR ``(N?, C, *spatial / scale)``."""
        return _batched(x, self.spatial_dims, self._apply)

    def adjoint(self, y: Tensor, params: Any = None) -> Tensor:
        """LR ``(N?, C, *spatial)`` -> HR ``(N?, C, *spatial * scale)``, ``<A x, y> == <x, A^T y>``."""
        return adjoint_by_autograd(self.forward, y, _hr_shape(y, self.scale, self.spatial_dims))

    def pseudo_inverse(self, y: Tensor, params: Any = None) -> Tensor:
        """:func:`upsample` (bicubic / trilinear): LR ``(N?, C, *spatial)`` -> ``(N?, C, *spatial * scale)``."""
        return upsample(y, self.scale, self.spatial_dims)


@dataclass(frozen=True)
class BicubicDownsample(LinearOperator):
    """Antialiased bicubic downsampling by ``scale`` (2D): ``(N?, C, H, W)`` -> ``(N?, C, H/s, W/s)``."""

    scale: int
    baseline_name = "bicubic"

    def __post_init__(self) -> None:
        _check(self.scale, 2)

    def _apply(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        return F.interpolate(x, size=(h // self.scale, w // self.scale), mode="bicubic", antialias=True,
                             align_corners=False)

    def forward(self, x: Tensor, params: Any = None) -> Tensor:
        """HR ``(N?, C, H, W)`` -> LR ``(N?, C, H/s, W/s)``."""
        return _batched(x, 2, self._apply)

    def adjoint(self, y: Tensor, params: Any = None) -> Tensor:
        """LR ``(N?, C, h, w)`` -> HR ``(N?, C, h s, w s)``, the exact transpose."""
        return adjoint_by_autograd(self.forward, y, _hr_shape(y, self.scale, 2))

    def pseudo_inverse(self, y: Tensor, params: Any = None) -> Tensor:
        """Bicubic upsampling (:func:`upsample`)."""
        return upsample(y, self.scale, 2)


@dataclass(frozen=True)
class KspaceTruncation(Operator):
    """Central ``1/scale`` of the centred k-space along each spatial axis, magnitude, ``/ scale^(d/2)``.

    ``forward``: real ``(N?, C, *spatial)`` -> ``(N?, C, *spatial / scale)`` (``x``'s dtype; the
    FFT runs in float32 or wider). ``pseudo_inverse``: zero-padded k-space (sinc) upsampling, magnitude,
    ``* scale^(d/2)``. For an image band-limited to the kept frequencies (and non-negative),
    ``pseudo_inverse(forward(x)) == x``.
    """

    scale: int
    spatial_dims: int = 2
    baseline_name = "zero-padded k-space"

    def __post_init__(self) -> None:
        _check(self.scale, self.spatial_dims)

    @property
    def _dims(self) -> tuple[int, ...]:
        return tuple(range(-self.spatial_dims, 0))

    def _gain(self) -> float:
        return self.scale if self.spatial_dims == 2 else self.scale ** (self.spatial_dims / 2)

    def _truncate(self, x: Tensor) -> Tensor:
        kspace = fftc(x.float(), self._dims)
        sizes = [n // self.scale for n in x.shape[-self.spatial_dims:]]
        # the DC stays central
        starts = [n // 2 - s // 2 for n, s in zip(x.shape[-self.spatial_dims:], sizes, strict=True)]
        window: tuple[EllipsisType | slice, ...] = (..., *(slice(a, a + s) for a, s in zip(starts, sizes, strict=True)))
        centre = kspace[window]
        return (ifftc(centre, self._dims).abs() / self._gain()).to(x.dtype)

    def _zero_pad(self, y: Tensor) -> Tensor:
        kspace = fftc(y.float(), self._dims)
        small = y.shape[-self.spatial_dims:]
        big = [n * self.scale for n in small]
        padded = torch.zeros(*y.shape[: y.dim() - self.spatial_dims], *big, dtype=kspace.dtype, device=y.device)
        starts = [b // 2 - n // 2 for b, n in zip(big, small, strict=True)]
        window: tuple[EllipsisType | slice, ...] = (..., *(slice(a, a + n) for a, n in zip(starts, small, strict=True)))
        padded[window] = kspace
        return (ifftc(padded, self._dims).abs() * self._gain()).to(y.dtype)

    def forward(self, x: Tensor, params: Any = None) -> Tensor:
        """HR ``(N?, C, *spatial)`` -> LR magnitude ``(N?, C, *spatial / scale)``."""
        return _batched(x, self.spatial_dims, self._truncate)

    def pseudo_inverse(self, y: Tensor, params: Any = None) -> Tensor:
        """Zero-padded k-space upsampling: LR ``(N?, C, *spatial)`` -> ``(N?, C, *spatial * scale)``."""
        return _batched(y, self.spatial_dims, self._zero_pad)
