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
- :class:`GatedGenerator`: the coarse network of DeepFill v2 (Yu et al. 2019, *Free-Form Image
  Inpainting with Gated Convolution*, ICCV) built of :class:`GatedConv2d`: every layer learns a
  soft, per-pixel and per-channel gate, so holes of any shape are told apart from valid pixels
  layer by layer; dilated gated convolutions in the middle widen the context. Any input size
  (padded to a multiple of 4).
"""

from __future__ import annotations

from typing import Sequence

import torch
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


GATED_MULTIPLE = 4  # the gated generator halves the resolution twice
GATE_BIAS = 2.0  # initial bias of the gates: they start open (sigmoid(2) = 0.88)


class GatedConv2d(nn.Module):
    """Gated convolution (Yu et al. 2019): ``y = phi(conv_f(x)) * sigmoid(conv_g(x))``.

    ``conv_f`` (features) and ``conv_g`` (gate) are the two halves of one convolution with
    ``2 * out_channels`` outputs (one kernel launch): output channels ``[:out]`` are the
    features, ``[out:]`` the gate. ``phi`` is ELU (DeepFill v2). "Same" padding for odd
    kernels: ``dilation * (kernel_size - 1) // 2``.

    Initialisation: He-normal features (zero bias) and gates that start open (bias
    :data:`GATE_BIAS`, ``sigmoid(2) = 0.88``). With PyTorch's default initialisation and
    half-closed gates (``sigmoid(0) = 0.5``) the signal of the 17-layer generator shrank about
    20x by the middle layers at initialisation (measured), which slows a short CPU training.

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.conv = nn.Conv2d(in_channels, 2 * out_channels, kernel_size, stride,
                              padding=dilation * (kernel_size - 1) // 2, dilation=dilation)
        bias = self.conv.bias
        assert bias is not None  # built with bias=True
        with torch.no_grad():
            nn.init.kaiming_normal_(self.conv.weight[:out_channels], nonlinearity="relu")
            bias[:out_channels].zero_()
            bias[out_channels:].fill_(GATE_BIAS)

    def forward(self, x: Tensor) -> Tensor:
        features, gate = self.conv(x).split(self.out_channels, dim=1)
        return F.elu(features) * torch.sigmoid(gate)


class _GatedUp(nn.Sequential):
    """DeepFill v2's ``gen_deconv``: nearest-neighbour 2x upsampling, then a 3x3 gated conv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), GatedConv2d(in_channels, out_channels))


class GatedGenerator(nn.Module):
    """DeepFill v2's coarse network: a gated-convolution encoder-decoder (no refinement stage, no
    contextual attention: CPU-sized).

    With ``c = width``: gated convs 5x5 ``c``; 3x3 stride 2 ``2c``; 3x3 ``2c``; 3x3 stride 2
    ``4c``; 3x3 ``4c`` x2; dilated 3x3 ``4c`` with dilations 2, 4, 8, 16; 3x3 ``4c`` x2; up +
    3x3 ``2c``; 3x3 ``2c``; up + 3x3 ``c``; 3x3 ``c // 2``; a plain 3x3 conv to ``C`` and tanh
    (DeepFill v2: ``width = 48``).

    The input is the task's ``cat(filled image, mask)`` (``C + 1`` channels, image in [0, 1]);
    as in DeepFill v2 the image is mapped to [-1, 1] and a channel of ones is appended (it marks
    the image border against the convolutions' zero padding). Inputs are padded (replicate) to a
    multiple of 4 and the output cropped back, so any size works.

    Shapes: ``(N, C + 1, H, W) -> (N, C, H, W)``, values in (0, 1).
    """

    def __init__(self, channels: int = 3, width: int = 24) -> None:
        super().__init__()
        c = width
        self.channels = channels
        self.net = nn.Sequential(
            GatedConv2d(channels + 2, c, 5),
            GatedConv2d(c, 2 * c, 3, stride=2),
            GatedConv2d(2 * c, 2 * c),
            GatedConv2d(2 * c, 4 * c, 3, stride=2),
            GatedConv2d(4 * c, 4 * c),
            GatedConv2d(4 * c, 4 * c),
            *(GatedConv2d(4 * c, 4 * c, 3, dilation=d) for d in (2, 4, 8, 16)),
            GatedConv2d(4 * c, 4 * c),
            GatedConv2d(4 * c, 4 * c),
            _GatedUp(4 * c, 2 * c),
            GatedConv2d(2 * c, 2 * c),
            _GatedUp(2 * c, c),
            GatedConv2d(c, max(1, c // 2)),
            nn.Conv2d(max(1, c // 2), channels, 3, padding=1),
        )

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        image, mask = x[:, :self.channels] * 2 - 1, x[:, self.channels:]
        x = torch.cat([image, mask, torch.ones_like(mask)], dim=1)
        ph, pw = (-h) % GATED_MULTIPLE, (-w) % GATED_MULTIPLE
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        out = torch.tanh(self.net(x)[..., :h, :w])
        return (out + 1) / 2
