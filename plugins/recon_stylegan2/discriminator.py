"""StyleGAN2 residual discriminator with minibatch standard deviation."""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import EqualConv2d, EqualLinear, MinibatchStd
from .mapping import MappingNetwork, channels_at, check_resolution

__all__ = ["Discriminator", "DiscriminatorBlock"]


class DiscriminatorBlock(nn.Module):
    """Residual block: (fromRGB) -> conv3x3 -> conv3x3 down, plus a 1x1 down skip; sum * sqrt(1/2)."""

    def __init__(self, in_ch: int, tmp_ch: int, out_ch: int, num_channels: int):
        super().__init__()
        self.fromrgb = EqualConv2d(num_channels, tmp_ch, 1, activation="lrelu") if in_ch == 0 else None
        self.conv0 = EqualConv2d(tmp_ch, tmp_ch, 3, activation="lrelu")
        self.conv1 = EqualConv2d(tmp_ch, out_ch, 3, activation="lrelu", down=2)
        self.skip = EqualConv2d(tmp_ch, out_ch, 1, bias=False, down=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fromrgb is not None:
            x = self.fromrgb(x)
        y = self.skip(x, gain=math.sqrt(0.5))
        x = self.conv1(self.conv0(x), gain=math.sqrt(0.5))
        return y + x


class Discriminator(nn.Module):
    """StyleGAN2 residual discriminator: ``forward(img (N, C, R, R), c=None) -> logits (N, 1)``.

    Blocks halve the resolution down to 4x4; the epilogue appends minibatch-stddev features
    (``mbstd_group_size`` samples per group, default 4), then conv3x3, FC and the output FC.
    Logits are raw (fp32): use softplus losses. Conditional (``c_dim > 0``) uses the
    projection form ``<out(x), cmap(c)> / sqrt(cmap_dim)``.
    """

    def __init__(
        self,
        resolution: int = 256,
        num_channels: int = 3,
        c_dim: int = 0,
        channel_base: int = 32768,
        channel_max: int = 512,
        mbstd_group_size: int = 4,
        mbstd_num_channels: int = 1,
        cmap_dim: int | None = None,
        mapping_layers: int = 8,
    ):
        super().__init__()
        log2 = check_resolution(resolution)
        self.resolution, self.num_channels, self.c_dim = resolution, num_channels, c_dim

        def ch(r):
            return channels_at(r, channel_base, channel_max)

        self.blocks = nn.Sequential(
            *[
                DiscriminatorBlock(0 if res == resolution else ch(res), ch(res), ch(res // 2), num_channels)
                for res in (2**i for i in range(log2, 2, -1))
            ]
        )
        c4 = ch(4)
        self.cmap_dim = (cmap_dim or c4) if c_dim > 0 else 0
        self.mapping = (
            MappingNetwork(0, self.cmap_dim, None, c_dim, mapping_layers, lr_multiplier=0.01) if c_dim > 0 else None
        )
        self.mbstd = MinibatchStd(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        self.conv = EqualConv2d(c4 + mbstd_num_channels, c4, 3, activation="lrelu")
        self.fc = EqualLinear(c4 * 16, c4, activation="lrelu")
        self.out = EqualLinear(c4, self.cmap_dim or 1)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if img.ndim != 4 or img.shape[1:] != (self.num_channels, self.resolution, self.resolution):
            raise ValueError(
                f"expected images (N, {self.num_channels}, {self.resolution}, {self.resolution}), "
                f"got {tuple(img.shape)}"
            )
        x = self.blocks(img)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.out(self.fc(self.conv(x).flatten(1))).float()
        if self.mapping is not None:
            cmap = self.mapping(None, c).float()
            x = (x * cmap).sum(dim=1, keepdim=True) / math.sqrt(self.cmap_dim)
        return x
