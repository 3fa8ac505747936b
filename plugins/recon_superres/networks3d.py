"""3D SRGAN networks for volumetric MRI super-resolution (Sanchez & Vilaplana 2018).

Generator: SRResNet with Conv3d everywhere -- a 3x3x3 head + PReLU, ``blocks`` residual
blocks (conv-[BN]-PReLU-conv-[BN]), a conv-[BN] with a long skip, log2(scale) voxel-shuffle
upsampling stages (conv to 8x channels, 3D pixel shuffle by 2, PReLU), a 3x3x3 output conv;
``global_residual`` adds the trilinear upsampled input. The 2D network's 9x9 head/tail would
be 9x9x9 here (729 weights per channel pair), so 3x3x3 is used throughout, as in the paper.

Discriminator: the SRGAN VGG-style classifier in 3D -- stages of (3x3x3 conv, 3x3x3 conv
stride 2), channels doubling, LeakyReLU(0.2), optional BatchNorm/InstanceNorm, an adaptive
average pool to ``pool_size``^3, Dense(``fc``), LeakyReLU, Dense(1).

Shapes: G ``(N, C, d, h, w) -> (N, C, d*s, h*s, w*s)``; D ``(N, C, D, H, W) -> (N, 1)``.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

from recon.api import make_norm
from recon_superres.networks import ResidualBlock, bn_or_identity


def voxel_shuffle(x: Tensor, factor: int) -> Tensor:
    """3D pixel shuffle: ``(N, C*f^3, D, H, W) -> (N, C, D*f, H*f, W*f)``."""
    n, c, d, h, w = x.shape
    out = c // factor**3
    x = x.view(n, out, factor, factor, factor, d, h, w)
    x = x.permute(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(n, out, d * factor, h * factor, w * factor)


class VoxelShuffle(nn.Module):
    def __init__(self, factor: int) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        return voxel_shuffle(x, self.factor)


class SRResNet3d(nn.Module):
    """The 3D SRResNet generator; see the module docstring. ``scale`` must be 2, 4 or 8."""

    def __init__(self, in_channels: int = 1, channels: int = 32, blocks: int = 8, scale: int = 2,
                 norm: str = "none", global_residual: bool = True, res_scale: float = 1.0) -> None:
        super().__init__()
        if scale not in (2, 4, 8):
            raise ValueError(f"3D scale must be 2, 4 or 8, got {scale}")
        self.scale = scale
        self.global_residual = global_residual
        self.head = nn.Sequential(nn.Conv3d(in_channels, channels, 3, 1, 1), nn.PReLU(channels))
        self.body = nn.Sequential(*[ResidualBlock(channels, norm, res_scale, spatial_dims=3) for _ in range(blocks)])
        self.body_tail = nn.Sequential(nn.Conv3d(channels, channels, 3, 1, 1), bn_or_identity(channels, norm, 3))
        stages: list[nn.Module] = []
        for _ in range(int(math.log2(scale))):
            stages += [nn.Conv3d(channels, channels * 8, 3, 1, 1), VoxelShuffle(2), nn.PReLU(channels)]
        self.upsample = nn.Sequential(*stages)
        self.tail = nn.Conv3d(channels, in_channels, 3, 1, 1)
        if global_residual:
            assert self.tail.bias is not None  # nn.Conv3d's default bias=True
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    def forward(self, x: Tensor) -> Tensor:
        features = self.head(x)
        features = features + self.body_tail(self.body(features))
        out = self.tail(self.upsample(features))
        if self.global_residual:
            out = out + F.interpolate(x, scale_factor=self.scale, mode="trilinear", align_corners=False)
        return out


class VGGStyleDiscriminator3d(nn.Module):
    """The SRGAN discriminator with 3D convolutions; see the module docstring."""

    def __init__(self, in_channels: int = 1, base_channels: int = 32, num_stages: int = 3,
                 norm: str = "none", fc_channels: int = 256, pool_size: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for stage in range(num_stages):
            out = base_channels * 2**stage
            layers += [nn.Conv3d(channels, out, 3, 1, 1)]
            if stage > 0:
                layers.append(make_norm(norm, out, 3))
            layers += [nn.LeakyReLU(0.2, inplace=True), nn.Conv3d(out, out, 3, 2, 1), make_norm(norm, out, 3),
                       nn.LeakyReLU(0.2, inplace=True)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d(pool_size)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(channels * pool_size**3, fc_channels),
                                  nn.LeakyReLU(0.2, inplace=True), nn.Linear(fc_channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.pool(self.features(x)))
