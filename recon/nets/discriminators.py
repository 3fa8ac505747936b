"""Discriminators shared by tasks: SRGAN's VGG-style classifier and a PatchGAN.

Both take ``(N, C, H, W)`` images and return logits: ``(N, 1)`` for the VGG-style network,
``(N, 1, h, w)`` (one logit per receptive field patch) for the PatchGAN.
"""

from __future__ import annotations

from torch import Tensor, nn


def make_norm(kind: str, channels: int, spatial_dims: int = 2) -> nn.Module:
    """A normalisation layer for ``(N, channels, *spatial)`` features: ``batch``, ``instance``
    (affine) or ``none`` (identity), 2D or 3D."""
    if kind == "batch":
        return (nn.BatchNorm2d if spatial_dims == 2 else nn.BatchNorm3d)(channels)
    if kind == "instance":
        return (nn.InstanceNorm2d if spatial_dims == 2 else nn.InstanceNorm3d)(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm '{kind}' (batch, instance or none)")


class VGGStyleDiscriminator(nn.Module):
    """The SRGAN discriminator (Ledig et al. 2017, fig. 4).

    ``num_stages`` stages of (3x3 conv, 3x3 conv stride 2), channels doubling from
    ``base_channels`` (64 -> 512 for the paper's 4 stages), LeakyReLU(0.2), BatchNorm after
    every conv but the first, then Dense(``fc_channels``), LeakyReLU, Dense(1). An adaptive
    average pool to ``pool_size`` before the dense layers makes it accept any input size
    (for the paper's 96x96 patches and 4 stages the pool is the identity: 6x6).

    Shapes: ``(N, C, H, W) -> (N, 1)``.
    """

    def __init__(self, in_channels: int = 3, base_channels: int = 64, num_stages: int = 4,
                 norm: str = "batch", fc_channels: int = 1024, pool_size: int = 6) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for stage in range(num_stages):
            out = base_channels * 2**stage
            layers += [nn.Conv2d(channels, out, 3, 1, 1, bias=stage == 0 or norm == "none")]
            if stage > 0:
                layers.append(make_norm(norm, out))
            layers += [nn.LeakyReLU(0.2, inplace=True),
                       nn.Conv2d(out, out, 3, 2, 1, bias=norm == "none"), make_norm(norm, out),
                       nn.LeakyReLU(0.2, inplace=True)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(channels * pool_size * pool_size, fc_channels),
            nn.LeakyReLU(0.2, inplace=True), nn.Linear(fc_channels, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.pool(self.features(x)))


class PatchGANDiscriminator(nn.Module):
    """The pix2pix PatchGAN (Isola et al. 2017): 4x4 convs, stride 2 for ``num_layers``
    layers then stride 1, channels doubling up to 8x ``base_channels``; 70x70 receptive
    field with the default 3 layers.

    Shapes: ``(N, C, H, W) -> (N, 1, H', W')`` logits.
    """

    def __init__(self, in_channels: int = 1, base_channels: int = 64, num_layers: int = 3,
                 norm: str = "instance", spatial_dims: int = 2) -> None:
        super().__init__()
        conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
        layers: list[nn.Module] = [conv(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        channels = base_channels
        for i in range(1, num_layers + 1):
            out = base_channels * min(2**i, 8)
            stride = 2 if i < num_layers else 1
            layers += [conv(channels, out, 4, stride, 1, bias=norm == "none"),
                       make_norm(norm, out, spatial_dims),
                       nn.LeakyReLU(0.2, inplace=True)]
            channels = out
        layers.append(conv(channels, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)
