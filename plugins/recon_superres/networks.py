"""SRResNet, the SRGAN generator (Ledig et al. 2017).

9x9 head conv + PReLU, ``blocks`` residual blocks (conv-BN-PReLU-conv-BN, identity skip),
a conv-BN after the blocks with a long skip, log2(scale) sub-pixel upsampling stages
(conv to 4x channels, PixelShuffle(2), PReLU; one PixelShuffle(3) stage for x3), and a 9x9
output conv. ``norm="none"`` drops BatchNorm (EDSR's finding, better for small batches);
``global_residual=True`` adds the bicubic upsampled input to the output so the network
learns only the missing detail (faster to train on a CPU budget).

Shapes: ``(N, C, h, w) -> (N, C, h*scale, w*scale)``.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn


def bn_or_identity(channels: int, norm: str, spatial_dims: int = 2) -> nn.Module:
    """SRResNet's BatchNorm when ``norm == "batch"``, else nothing."""
    if norm != "batch":
        return nn.Identity()
    return (nn.BatchNorm2d if spatial_dims == 2 else nn.BatchNorm3d)(channels)


class ResidualBlock(nn.Module):
    """SRResNet's block, ``x + res_scale * (conv-BN-PReLU-conv-BN)(x)``, on ``(N, C, H, W)``
    (``spatial_dims=2``) or ``(N, C, D, H, W)`` (``spatial_dims=3``); shape preserved."""

    def __init__(self, channels: int, norm: str, res_scale: float, spatial_dims: int = 2) -> None:
        super().__init__()
        conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
        self.body = nn.Sequential(
            conv(channels, channels, 3, 1, 1), bn_or_identity(channels, norm, spatial_dims), nn.PReLU(channels),
            conv(channels, channels, 3, 1, 1), bn_or_identity(channels, norm, spatial_dims),
        )
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        return x + self.res_scale * self.body(x)


def _upsampler(channels: int, scale: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    if scale in (2, 4, 8):
        for _ in range(int(math.log2(scale))):
            layers += [nn.Conv2d(channels, channels * 4, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(channels)]
    elif scale == 3:
        layers += [nn.Conv2d(channels, channels * 9, 3, 1, 1), nn.PixelShuffle(3), nn.PReLU(channels)]
    else:
        raise ValueError(f"scale must be 2, 3, 4 or 8, got {scale}")
    return nn.Sequential(*layers)


class SRResNet(nn.Module):
    """The SRResNet generator; see the module docstring."""

    def __init__(self, in_channels: int = 3, channels: int = 64, blocks: int = 16, scale: int = 4,
                 norm: str = "batch", global_residual: bool = False, res_scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale
        self.global_residual = global_residual
        self.head = nn.Sequential(nn.Conv2d(in_channels, channels, 9, 1, 4), nn.PReLU(channels))
        self.body = nn.Sequential(*[ResidualBlock(channels, norm, res_scale) for _ in range(blocks)])
        self.body_tail = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), bn_or_identity(channels, norm))
        self.upsample = _upsampler(channels, scale)
        self.tail = nn.Conv2d(channels, in_channels, 9, 1, 4)
        if global_residual:
            assert self.tail.bias is not None  # nn.Conv2d's default bias=True
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    def forward(self, x: Tensor) -> Tensor:
        features = self.head(x)
        features = features + self.body_tail(self.body(features))
        out = self.tail(self.upsample(features))
        if self.global_residual:
            out = out + F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return out
