"""Centred orthonormal 2D Fourier transforms and complex-tensor helpers.

Conventions (the same as fastMRI's ``fft2c``/``ifft2c``):

* Images and k-space are **torch complex tensors** whose last two dims are the spatial
  dims ``(H, W)``; any leading dims (batch, coil) are carried along.
* ``fft2c(x) = fftshift(fft2(ifftshift(x), norm="ortho"))`` over the last two dims, so the
  k-space centre (DC) sits at index ``(H // 2, W // 2)`` and the transform is unitary
  (Parseval: ``||x||_2 == ||fft2c(x)||_2``).
* The network-facing layout of a complex image is a real tensor with a 2-channel axis,
  ``(..., 2, H, W)`` = (real, imag) (``to_channels`` / ``to_complex``).

Why not MONAI's ``monai.networks.blocks.fft_utils_t.fftn_centered_t`` (what
``monai.apps.reconstruction`` uses)? It implements exactly this convention (ifftshift,
``norm="ortho"``, fftshift) — the tests check that our transform equals it — but it works on
real tensors with a trailing ``(..., 2)`` real/imag axis and implements the shifts with
``torch.cat`` copies. Our data are native complex tensors, for which ``torch.fft`` already
has ``fftshift``/``ifftshift``; converting to MONAI's layout and back would add two copies
per transform inside every data-consistency layer. Likewise MONAI's
``root_sum_of_squares_t`` computes ``(x ** 2).sum() ** 0.5``, which is wrong for complex
tensors (``x ** 2`` is not ``|x| ** 2``), so ``rss`` below uses ``|x|``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from recon.errors import UsageError

__all__ = [
    "fft2c",
    "ifft2c",
    "complex_abs",
    "rss",
    "to_channels",
    "to_complex",
    "check_complex",
]

_DIMS = (-2, -1)


def check_complex(x: Tensor, name: str = "input", min_dim: int = 2) -> Tensor:
    """Raise ``UsageError`` unless ``x`` is a complex tensor with at least ``min_dim`` dims."""
    if not isinstance(x, Tensor):
        raise UsageError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if not torch.is_complex(x):
        raise UsageError(f"{name} must be a complex tensor, got dtype {x.dtype}")
    if x.ndim < min_dim:
        raise UsageError(f"{name} must have at least {min_dim} dims (..., H, W), got shape {tuple(x.shape)}")
    return x


def fft2c(x: Tensor) -> Tensor:
    """Centred orthonormal 2D FFT over the last two dims: image ``(..., H, W)`` -> k-space."""
    check_complex(x, "image")
    x = torch.fft.ifftshift(x, dim=_DIMS)
    x = torch.fft.fft2(x, dim=_DIMS, norm="ortho")
    return torch.fft.fftshift(x, dim=_DIMS)


def ifft2c(k: Tensor) -> Tensor:
    """Centred orthonormal 2D inverse FFT over the last two dims: k-space ``(..., H, W)`` -> image."""
    check_complex(k, "k-space")
    k = torch.fft.ifftshift(k, dim=_DIMS)
    k = torch.fft.ifft2(k, dim=_DIMS, norm="ortho")
    return torch.fft.fftshift(k, dim=_DIMS)


def complex_abs(x: Tensor, channel_dim: int | None = None) -> Tensor:
    """Magnitude of a complex tensor, or of a real tensor with a (real, imag) axis ``channel_dim``.

    Uses ``torch.abs`` of a complex tensor, whose gradient at 0 is 0 (not NaN as with
    ``sqrt(re**2 + im**2)``) — pixels of an exact-zero background are common.
    """
    if channel_dim is not None:
        x = to_complex(x, channel_dim)
    elif not torch.is_complex(x):
        raise UsageError("complex_abs of a real tensor needs channel_dim (the real/imag axis of size 2)")
    return x.abs()


def rss(x: Tensor, dim: int) -> Tensor:
    """Root-sum-of-squares over ``dim``: ``sqrt(sum |x|^2)``; works for complex and real tensors."""
    a = x.abs() if torch.is_complex(x) else x
    return torch.sqrt((a * a).sum(dim=dim))


def to_channels(x: Tensor, dim: int = -3) -> Tensor:
    """Complex ``(..., H, W)`` -> real with a new (real, imag) axis at ``dim``: default ``(..., 2, H, W)``."""
    check_complex(x, "complex image", min_dim=0)
    return torch.stack((x.real, x.imag), dim=dim)


def to_complex(x: Tensor, dim: int = -3) -> Tensor:
    """Real tensor with a (real, imag) axis of size 2 at ``dim`` (default ``(..., 2, H, W)``) -> complex."""
    if torch.is_complex(x):
        raise UsageError(f"expected a real tensor with a 2-channel (real, imag) axis, got complex {tuple(x.shape)}")
    if x.ndim == 0 or x.shape[dim] != 2:
        raise UsageError(f"expected a (real, imag) axis of size 2 at dim {dim}, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        x = x.float()
    return torch.complex(x.select(dim, 0), x.select(dim, 1))
