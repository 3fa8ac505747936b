"""Inpainting generators. Both take the masked image and the mask concatenated,
``(N, C + 1, H, W)``, and return a full ``(N, C, H, W)`` image; the task keeps only the hole.

- :class:`InpaintUNet`: MONAI ``BasicUNet`` (plain convolutions, no gated/partial convs, so
  it stays small and fast on a CPU); any input size (padded to a multiple of 16); optionally
  residual on the pre-filled input.
- :class:`ContextEncoder`: the context encoder of Pathak et al. 2016 (the arbitrary-region
  variant, DCGAN-style): five 4x4 stride-2 convolutions (BatchNorm, LeakyReLU 0.2), a
  bottleneck convolution to a ``bottleneck``-channel 1x1 code (their 4000-d), and a mirror
  decoder of transposed convolutions (BatchNorm, ReLU). Written here because no maintained
  library ships it; it works at one input size, ``patch_size`` (a multiple of 32).
"""

from __future__ import annotations

from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

MULTIPLE = 16  # BasicUNet halves the resolution four times


class InpaintUNet(nn.Module):
    """``(N, C + 1, H, W) -> (N, C, H, W)`` U-Net; inputs padded (replicate) to multiples of 16.

    With ``residual`` the output is ``input + UNet(x)`` (the input's first ``C`` channels, the
    hole pre-filled by ``mask.fill``) and the last 1x1 convolution starts at zero, so the
    untrained network returns the fill and learns a correction to it.
    """

    def __init__(self, channels: int = 3, features: Sequence[int] = (16, 32, 64, 128, 128, 16),
                 norm: str = "batch", residual: bool = False) -> None:
        super().__init__()
        from monai.networks.nets import BasicUNet

        norm_layer = ("instance", {"affine": True}) if norm == "instance" else ("batch", {})
        self.unet = BasicUNet(spatial_dims=2, in_channels=channels + 1, out_channels=channels,
                              features=tuple(features), norm=norm_layer, upsample="deconv")
        self.channels, self.residual = channels, residual
        if residual:
            nn.init.zeros_(self.unet.final_conv.weight)
            nn.init.zeros_(self.unet.final_conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % MULTIPLE, (-w) % MULTIPLE
        padded = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        out = self.unet(padded)[..., :h, :w]
        return x[:, :self.channels] + out if self.residual else out


class ContextEncoder(nn.Module):
    """Pathak et al. 2016's encoder-decoder for ``size`` x ``size`` inputs.

    Args:
        channels: image channels ``C`` (the input has ``C + 1`` with the mask).
        size: the input side, a multiple of 32 (128 in the paper).
        width: channels of the first layer (64), doubled per layer up to 8x.
        bottleneck: channels of the 1x1 code (4000).

    Shapes: ``(N, C + 1, size, size) -> (N, C, size, size)``; output in (0, 1) (sigmoid).
    """

    def __init__(self, channels: int = 3, size: int = 128, width: int = 64, bottleneck: int = 4000) -> None:
        super().__init__()
        if size % 32:
            raise ValueError(f"the context encoder needs a side that is a multiple of 32, got {size}")
        self.size = size
        widths = [width, width, width * 2, width * 4, width * 8]
        enc: list[nn.Module] = []
        prev = channels + 1
        for i, out in enumerate(widths):
            enc += [nn.Conv2d(prev, out, 4, 2, 1, bias=i == 0)]
            if i > 0:
                enc.append(nn.BatchNorm2d(out))
            enc.append(nn.LeakyReLU(0.2, inplace=True))
            prev = out
        code = size // 32
        enc += [nn.Conv2d(prev, bottleneck, code, 1, 0, bias=False), nn.BatchNorm2d(bottleneck),
                nn.LeakyReLU(0.2, inplace=True)]
        dec: list[nn.Module] = [nn.ConvTranspose2d(bottleneck, widths[-1], code, 1, 0, bias=False),
                                nn.BatchNorm2d(widths[-1]), nn.ReLU(inplace=True)]
        prev = widths[-1]
        for out in reversed(widths[:-1]):
            dec += [nn.ConvTranspose2d(prev, out, 4, 2, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            prev = out
        dec += [nn.ConvTranspose2d(prev, channels, 4, 2, 1), nn.Sigmoid()]
        self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[-2:]) != (self.size, self.size):
            raise ValueError(f"the context encoder was built for {self.size}x{self.size} inputs, "
                             f"got {x.shape[-2]}x{x.shape[-1]}")
        return self.decoder(self.encoder(x))
