"""The one centred orthonormal FFT of the repository, and complex-tensor helpers.

Conventions (fastMRI's ``fft2c``/``ifft2c``, MONAI's ``fftn_centered_t``):

* ``fftc(x, dims) = fftshift(fftn(ifftshift(x), norm="ortho"))`` over ``dims``, so the k-space
  centre (DC) sits at index ``n // 2`` of every transformed dim and the transform is unitary
  (Parseval: ``||x||_2 == ||fftc(x)||_2``); ``ifftc`` is its inverse.
* ``fft2c``/``ifft2c`` are the 2D transforms over the last two dims ``(H, W)`` of **complex**
  images and k-space (the MR convention; a real tensor there is almost always a forgotten
  ``to_complex`` of a ``(..., 2, H, W)`` real/imag layout, so it is refused). ``fftc``/``ifftc``
  also take real tensors (a magnitude image), which ``torch.fft`` transforms as they are.
* The network-facing layout of a complex image is a real tensor with a 2-channel axis,
  ``(..., 2, H, W)`` = (real, imag) (``to_channels`` / ``to_complex``).

Why not MONAI's ``monai.networks.blocks.fft_utils_t.fftn_centered_t``? It implements exactly this
convention — the tests check that ours equals it — but works on real tensors with a trailing
``(..., 2)`` real/imag axis and implements the shifts with ``torch.cat`` copies; our data are
native complex tensors, for which ``torch.fft`` has ``fftshift``/``ifftshift``. Likewise MONAI's
``root_sum_of_squares_t`` computes ``(x ** 2).sum() ** 0.5``, which is wrong for complex tensors
(``x ** 2`` is not ``|x| ** 2``), so :func:`rss` uses ``|x|``.

Every other module (core and plugins) transforms through these functions; none calls
``torch.fft`` itself.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from recon.errors import UsageError

__all__ = [
    "IMAGE_DIMS",
    "fftc",
    "ifftc",
    "fft2c",
    "ifft2c",
    "check_complex",
    "complex_abs",
    "rss",
    "to_channels",
    "to_complex",
]

#: the spatial dims of a 2D image or k-space ``(..., H, W)``
IMAGE_DIMS = (-2, -1)


def _dims(x: Tensor, dims: Sequence[int]) -> tuple[int, ...]:
    if not isinstance(x, Tensor):
        raise UsageError(f"the FFT needs a torch tensor, got {type(x).__name__}")
    if not (torch.is_complex(x) or x.is_floating_point()):
        raise UsageError(f"the FFT needs a floating-point or complex tensor, got dtype {x.dtype}")
    out = tuple(int(d) for d in dims)
    if not out or len(set(d % max(x.ndim, 1) for d in out)) != len(out) or any(not -x.ndim <= d < x.ndim for d in out):
        raise UsageError(f"FFT dims {tuple(dims)} must be distinct dims of a tensor of shape {tuple(x.shape)}")
    return out


def fftc(x: Tensor, dims: Sequence[int]) -> Tensor:
    """Centred orthonormal FFT over ``dims``: image ``(..., n_1, ..., n_k)`` -> complex k-space, same shape.

    ``x`` may be real (float) or complex; the DC lands at index ``n // 2`` of every dim in ``dims``.
    """
    d = _dims(x, dims)
    x = torch.fft.ifftshift(x, dim=d)
    x = torch.fft.fftn(x, dim=d, norm="ortho")
    return torch.fft.fftshift(x, dim=d)


def ifftc(k: Tensor, dims: Sequence[int]) -> Tensor:
    """Inverse of :func:`fftc`: centred k-space ``(..., n_1, ..., n_k)`` -> complex image, same shape."""
    d = _dims(k, dims)
    k = torch.fft.ifftshift(k, dim=d)
    k = torch.fft.ifftn(k, dim=d, norm="ortho")
    return torch.fft.fftshift(k, dim=d)


def check_complex(x: Tensor, name: str = "input", min_dim: int = 2) -> Tensor:
    """Raise ``UsageError`` unless ``x`` is a complex tensor with at least ``min_dim`` dims; returns ``x``."""
    if not isinstance(x, Tensor):
        raise UsageError(f"{name} must be a torch tensor, got {type(x).__name__}")
    if not torch.is_complex(x):
        raise UsageError(f"{name} must be a complex tensor, got dtype {x.dtype}")
    if x.ndim < min_dim:
        raise UsageError(f"{name} must have at least {min_dim} dims (..., H, W), got shape {tuple(x.shape)}")
    return x


def fft2c(x: Tensor) -> Tensor:
    """Centred orthonormal 2D FFT of a complex image ``(..., H, W)`` -> complex k-space ``(..., H, W)``."""
    return fftc(check_complex(x, "image"), IMAGE_DIMS)


def ifft2c(k: Tensor) -> Tensor:
    """Centred orthonormal 2D inverse FFT of complex k-space ``(..., H, W)`` -> complex image ``(..., H, W)``."""
    return ifftc(check_complex(k, "k-space"), IMAGE_DIMS)


def complex_abs(x: Tensor, channel_dim: int | None = None) -> Tensor:
    """Magnitude of a complex tensor, or of a real tensor with a (real, imag) axis ``channel_dim``.

    Complex ``(...)`` -> real ``(...)``; real ``(..., 2 at channel_dim, ...)`` -> real without that
    axis. Uses ``torch.abs`` of a complex tensor, whose gradient at 0 is 0 (not NaN as with
    ``sqrt(re**2 + im**2)``) — pixels of an exact-zero background are common.
    """
    if channel_dim is not None:
        x = to_complex(x, channel_dim)
    elif not torch.is_complex(x):
        raise UsageError("complex_abs of a real tensor needs channel_dim (the real/imag axis of size 2)")
    return x.abs()


def rss(x: Tensor, dim: int) -> Tensor:
    """Root-sum-of-squares ``sqrt(sum |x|^2)`` over ``dim`` (complex or real): ``(..., n, ...)`` -> ``(..., ...)``."""
    a = x.abs() if torch.is_complex(x) else x
    return torch.sqrt((a * a).sum(dim=dim))


def to_channels(x: Tensor, dim: int = -3) -> Tensor:
    """Complex ``(..., H, W)`` -> real with a new (real, imag) axis at ``dim``: default ``(..., 2, H, W)``."""
    check_complex(x, "complex image", min_dim=0)
    return torch.stack((x.real, x.imag), dim=dim)


def to_complex(x: Tensor, dim: int = -3) -> Tensor:
    """Real tensor with a (real, imag) axis of size 2 at ``dim`` (default ``(..., 2, H, W)``) -> complex,
    without that axis (default ``(..., H, W)``)."""
    if torch.is_complex(x):
        raise UsageError(f"expected a real tensor with a 2-channel (real, imag) axis, got complex {tuple(x.shape)}")
    if x.ndim == 0 or x.shape[dim] != 2:
        raise UsageError(f"expected a (real, imag) axis of size 2 at dim {dim}, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        x = x.float()
    return torch.complex(x.select(dim, 0), x.select(dim, 1))
