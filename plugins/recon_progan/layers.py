"""ProGAN's building blocks (Karras et al. 2018, sec. 4), for 2D and 3D alike.

* equalized learning rate: weights are drawn from ``N(0, 1)`` and scaled at every call by
  He's constant ``gain / sqrt(fan_in)`` (:class:`EqualizedConv`, :class:`EqualizedLinear`), so
  Adam's per-parameter step size is the same for every layer;
* pixelwise feature normalisation in G: ``x / sqrt(mean_c x^2 + 1e-8)`` (:class:`PixelNorm`);
* minibatch standard deviation in D: the mean over features and positions of the standard
  deviation over a group of samples, appended as one extra feature map
  (:class:`MinibatchStd`);
* nearest-neighbour 2x upsampling and 2x average pooling (:func:`upsample2`, :func:`downsample2`).

``spatial_dims`` (2 or 3) selects ``conv2d`` / ``conv3d``; every tensor is ``(N, C, *spatial)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["EqualizedConv", "EqualizedLinear", "MinibatchStd", "PixelNorm", "downsample2", "downsample_to",
           "upsample2", "upsample_to"]

SQRT2 = math.sqrt(2.0)


class EqualizedConv(nn.Module):
    """``conv{2,3}d`` with runtime weight scaling ``gain / sqrt(in_channels * k^dims)``; 'same' padding.

    Args:
        in_channels, out_channels: feature counts.
        kernel_size: odd kernel side (1 or 3 in ProGAN).
        spatial_dims: 2 or 3.
        gain: He's gain (``sqrt(2)`` before a leaky ReLU, 1 for the ``toRGB`` layers).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, spatial_dims: int = 2,
                 gain: float = SQRT2) -> None:
        super().__init__()
        if spatial_dims not in (2, 3):
            raise ValueError(f"spatial_dims must be 2 or 3, got {spatial_dims}")
        self.spatial_dims = spatial_dims
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, *([kernel_size] * spatial_dims)))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.scale = gain / math.sqrt(in_channels * kernel_size**spatial_dims)
        self.padding = kernel_size // 2

    def forward(self, x: Tensor) -> Tensor:
        """``(N, in, *S) -> (N, out, *S)``."""
        conv = F.conv2d if self.spatial_dims == 2 else F.conv3d
        return conv(x, self.weight * self.scale, self.bias, padding=self.padding)


class EqualizedLinear(nn.Module):
    """A dense layer with runtime weight scaling ``gain / sqrt(in_features)``: ``(N, in) -> (N, out)``."""

    def __init__(self, in_features: int, out_features: int, gain: float = SQRT2) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale = gain / math.sqrt(in_features)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class PixelNorm(nn.Module):
    """Normalise each position's feature vector to unit mean square: ``(N, C, *S)`` -> same shape."""

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)


def group_size_for(batch: int, group_size: int) -> int:
    """The largest divisor of ``batch`` not above ``group_size`` (the whole group must be full)."""
    size = max(1, min(group_size, batch))
    while batch % size:
        size -= 1
    return size


class MinibatchStd(nn.Module):
    """Append the minibatch standard deviation as one feature map: ``(N, C, *S) -> (N, C + 1, *S)``.

    Samples are split into groups of ``group_size`` (:func:`group_size_for`); within a group,
    the standard deviation of every feature at every position is averaged over features and
    positions to one number, broadcast as a constant map to the group's samples.
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        g = group_size_for(n, self.group_size)
        y = x.float().reshape(g, n // g, *x.shape[1:])  # sample j of group k is x[k + j * n // g], as NVlabs'
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # (n // g, C, *S)
        y = y.flatten(1).mean(dim=1)  # (n // g,)
        y = y.repeat(g).reshape(n, 1, *([1] * (x.dim() - 2))).expand(n, 1, *x.shape[2:])
        return torch.cat([x, y.to(x.dtype)], dim=1)


def upsample2(x: Tensor) -> Tensor:
    """Nearest-neighbour 2x upsampling of every spatial dim: ``(N, C, *S) -> (N, C, *2S)``."""
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


def downsample2(x: Tensor) -> Tensor:
    """2x average pooling of every spatial dim: ``(N, C, *S) -> (N, C, *S/2)``."""
    return F.avg_pool2d(x, 2) if x.dim() == 4 else F.avg_pool3d(x, 2)


def downsample_to(x: Tensor, size: int) -> Tensor:
    """Box-filter ``x`` (side a power-of-two multiple of ``size``) down to side ``size``."""
    factor = x.shape[-1] // size
    if factor <= 1:
        return x
    return F.avg_pool2d(x, factor) if x.dim() == 4 else F.avg_pool3d(x, factor)


def upsample_to(x: Tensor, size: int) -> Tensor:
    """Nearest-neighbour upsampling of ``x`` to side ``size`` (an integer multiple of its side)."""
    if x.shape[-1] == size:
        return x
    return F.interpolate(x, scale_factor=float(size // x.shape[-1]), mode="nearest")
