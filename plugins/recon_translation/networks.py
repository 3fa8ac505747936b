"""The pix2pix U-Net generator (Isola et al. 2017, appendix 6.1.1), for any input size.

Encoder: ``num_downs`` 4x4 stride-2 convolutions (LeakyReLU 0.2 before each but the first,
a normalisation after each but the first and the innermost), widths ``channels * 2**i``
capped at ``8 * channels``. Decoder: 4x4 stride-2 transposed convolutions (ReLU before,
normalisation after, dropout in up to three blocks after the bottleneck -- pix2pix's
``CD512`` layers), each fed the concatenation of the previous decoder output and the
encoder output at the same resolution. ``num_downs=8``, ``channels=64`` is U-Net-256.

Written here rather than taken from MONAI: MONAI's ``UNet``/``BasicUNet`` use 3x3 (residual)
units, a fixed depth (``BasicUNet``) and no decoder dropout, so neither is pix2pix's network.

Images in [0, 1] are mapped to [-1, 1] inside (pix2pix's range) and the output back to
[0, 1]; inputs are padded (edge replication) to a multiple of ``2**num_downs`` and the
output cropped back, so whole slices of any size work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recon.api import make_norm

if TYPE_CHECKING:
    from recon_translation.baselines import IntensityModels


def pad_to_multiple(x: Tensor, multiple: int) -> tuple[Tensor, tuple[int, int]]:
    """Pad ``(N, C, H, W)`` at the bottom/right by edge replication to multiples of ``multiple``.

    Returns the padded tensor and the original ``(H, W)``.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)


class UNetGenerator(nn.Module):
    """pix2pix's U-Net with skip connections.

    Args:
        in_channels: channels of the source contrast.
        out_channels: channels of the target contrast.
        num_downs: stride-2 levels (>= 2); the bottleneck is ``2**num_downs`` times smaller.
        channels: width of the first level.
        norm: ``batch`` (pix2pix), ``instance`` or ``none``.
        dropout: dropout probability of the decoder blocks after the bottleneck (pix2pix: 0.5).
        output: ``tanh`` (bounded, pix2pix) or ``linear``, both mapped from [-1, 1] to [0, 1];
            ``raw``: the last layer's output as it is (a residual), that layer initialised to 0.

    Shapes: ``(N, C_in, H, W) -> (N, C_out, H, W)`` in [0, 1] (``tanh``) for any ``H, W >= 1``.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, num_downs: int = 8, channels: int = 64,
                 norm: str = "batch", dropout: float = 0.5, output: str = "tanh") -> None:
        super().__init__()
        if num_downs < 2:
            raise ValueError(f"num_downs must be >= 2, got {num_downs}")
        if output not in ("tanh", "linear", "raw"):
            raise ValueError(f"unknown output '{output}' (tanh, linear or raw)")
        self.num_downs, self.output = num_downs, output
        widths = [channels * min(2**i, 8) for i in range(num_downs)]
        bias = norm != "batch"  # a BatchNorm right after makes the bias redundant
        self.down = nn.ModuleList()
        for i, width in enumerate(widths):
            if i == 0:
                self.down.append(nn.Conv2d(in_channels, width, 4, 2, 1))
                continue
            layers: list[nn.Module] = [nn.LeakyReLU(0.2, inplace=True),
                                       nn.Conv2d(widths[i - 1], width, 4, 2, 1, bias=bias)]
            if i < num_downs - 1:  # the innermost level has no normalisation (1x1 for U-Net-256)
                layers.append(make_norm(norm, width))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()  # up[i] maps level i (plus its skip) to level i - 1
        for i in range(num_downs):
            c_in = widths[i] if i == num_downs - 1 else 2 * widths[i]
            if i == 0:
                self.up.append(nn.Sequential(nn.ReLU(inplace=True), nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1)))
                continue
            layers = [nn.ReLU(inplace=True), nn.ConvTranspose2d(c_in, widths[i - 1], 4, 2, 1, bias=bias),
                      make_norm(norm, widths[i - 1])]
            if dropout > 0 and max(1, num_downs - 4) <= i <= num_downs - 2:
                layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        self.apply(_init_weights)
        if output == "raw":  # a residual starts at zero: the untrained model is what it corrects
            last = cast(nn.Sequential, self.up[0])[-1]
            assert isinstance(last, nn.ConvTranspose2d) and last.bias is not None  # up[0] built above
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, x: Tensor) -> Tensor:
        padded, (h, w) = pad_to_multiple(x * 2 - 1, 2**self.num_downs)
        skips = []
        y = padded
        for block in self.down:
            y = block(y)
            skips.append(y)
        y = self.up[-1](skips[-1])
        for i in range(self.num_downs - 2, -1, -1):
            y = self.up[i](torch.cat([skips[i], y], dim=1))
        y = y[..., :h, :w]
        if self.output == "raw":
            return y
        return ((torch.tanh(y) if self.output == "tanh" else y) + 1) / 2


def _init_weights(module: nn.Module) -> None:
    """pix2pix's initialisation: conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class TranslationGenerator(nn.Module):
    """The U-Net plus the training statistics of the classical baselines.

    ``intensity`` (:class:`recon_translation.baselines.IntensityModels`) holds buffers; it rides
    along so every checkpoint carries the statistics the baselines were fitted with. With
    ``residual`` the U-Net (``output="raw"``) predicts a correction to the training-set
    intensity lookup: ``G(x) = lookup(x) + UNet(x)``; otherwise ``G(x) = UNet(x)`` (pix2pix).

    Shapes: ``(N, C_in, H, W) -> (N, C_out, H, W)``.
    """

    def __init__(self, unet: nn.Module, intensity: IntensityModels, residual: bool = False) -> None:
        super().__init__()
        self.unet = unet
        self.intensity = intensity
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        if self.residual:
            return self.intensity.intensity_lookup(x) + self.unet(x)
        return self.unet(x)
