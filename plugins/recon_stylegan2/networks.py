"""StyleGAN2 generator and discriminator (config E/F: skip G, residual D, no progressive growing).

Generator: ``z --mapping--> w (N, num_ws, w_dim) --synthesis--> image (N, C, R, R)``.
Discriminator: residual blocks down to 4x4, minibatch-stddev, logits ``(N, 1)``.

**Output range.** The generator's last op is a sum of linear toRGB outputs: images are trained
to lie in **[-1, 1]** (the data convention of the ``stylegan2`` task) but are *not* clamped or
squashed, so a few pixels can fall slightly outside; clamp with ``img.clamp(-1, 1)`` before
saving or computing metrics. The discriminator expects the same [-1, 1] convention.

Widths follow ``channels(res) = min(channel_base // res, channel_max)``; the paper's config F
is ``channel_base=32768, channel_max=512`` (see :data:`CONFIGS`).
"""

from __future__ import annotations

import math
from typing import cast

import torch
from torch import nn

from .discriminator import Discriminator
from .layers import LRELU_GAIN, LRELU_SLOPE, EqualLinear, modulated_conv2d, upsample2x
from .mapping import MappingNetwork, channels_at, check_resolution

__all__ = ["CONFIGS", "MappingNetwork", "SynthesisNetwork", "Generator", "Discriminator"]

NOISE_MODES = ("random", "const", "none")

#: Ready-made sizes. ``paper`` is StyleGAN2 config F; ``cpu`` trains at 32x32 on two cores.
CONFIGS: dict[str, dict] = {
    "paper": dict(z_dim=512, w_dim=512, mapping_layers=8, channel_base=32768, channel_max=512),
    "cpu": dict(z_dim=128, w_dim=128, mapping_layers=4, channel_base=2048, channel_max=128),
}


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (optionally after 2x upsampling) + per-channel-scaled noise + bias + lrelu."""

    noise_const: torch.Tensor  # buffer, with use_noise

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, resolution: int, up: bool = False, use_noise: bool = True):
        super().__init__()
        self.up, self.resolution, self.use_noise = up, resolution, use_noise
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, 3, 3))
        self.weight_gain = 1.0 / math.sqrt(in_ch * 9)
        self.bias = nn.Parameter(torch.zeros(out_ch))
        if use_noise:
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
            self.noise_strength = nn.Parameter(torch.zeros(out_ch))  # learned, one per channel

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random", fused: bool = True):
        if self.up:
            x = upsample2x(x)
        n, r = x.shape[0], self.resolution
        noise = None
        if self.use_noise and noise_mode != "none":
            base = (
                torch.randn(n, 1, r, r, device=x.device, dtype=torch.float32)
                if noise_mode == "random"
                else self.noise_const.reshape(1, 1, r, r)
            )
            noise = base * self.noise_strength.reshape(1, -1, 1, 1)
        x = modulated_conv2d(x, self.weight * self.weight_gain, self.affine(w), fused=fused, noise=noise)
        x = x + self.bias.to(x.dtype).reshape(1, -1, 1, 1)
        return torch.nn.functional.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN


class ToRGB(nn.Module):
    """Modulated 1x1 conv without demodulation to ``num_channels`` image channels (fp32 out)."""

    def __init__(self, in_ch: int, num_channels: int, w_dim: int):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(num_channels, in_ch, 1, 1))
        self.weight_gain = 1.0 / math.sqrt(in_ch)
        self.bias = nn.Parameter(torch.zeros(num_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused: bool = True) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        y = modulated_conv2d(x, self.weight, styles, demodulate=False, fused=fused)
        return y.float() + self.bias.reshape(1, -1, 1, 1)


class SynthesisBlock(nn.Module):
    """One resolution of the skip generator: [const | up-conv] -> conv -> toRGB."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, resolution: int, num_channels: int, use_noise: bool):
        super().__init__()
        self.resolution = resolution
        if in_ch == 0:
            self.const = nn.Parameter(torch.randn(out_ch, resolution, resolution))
            self.conv0 = None
        else:
            self.conv0 = SynthesisLayer(in_ch, out_ch, w_dim, resolution, up=True, use_noise=use_noise)
        self.conv1 = SynthesisLayer(out_ch, out_ch, w_dim, resolution, use_noise=use_noise)
        self.torgb = ToRGB(out_ch, num_channels, w_dim)
        self.num_conv = 1 if in_ch == 0 else 2

    def forward(self, x, img, ws, noise_mode: str, fused: bool):
        # ws: (N, num_conv + 1, w_dim); the toRGB w is shared with the next block's first conv.
        if self.conv0 is None:
            x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
            x = self.conv1(x, ws[:, 0], noise_mode, fused)
        else:
            x = self.conv0(x, ws[:, 0], noise_mode, fused)
            x = self.conv1(x, ws[:, 1], noise_mode, fused)
        y = self.torgb(x, ws[:, self.num_conv], fused)
        img = y if img is None else upsample2x(img) + y
        return x, img


class SynthesisNetwork(nn.Module):
    """``ws (N, num_ws, w_dim)`` -> image ``(N, num_channels, R, R)``; skip architecture.

    Every resolution from 4x4 up has a toRGB whose output is added to the 2x-upsampled running
    image, so all resolutions contribute from the first step (no progressive growing).
    ``num_ws = 2 * log2(R) - 2``.
    """

    def __init__(
        self,
        w_dim: int,
        resolution: int,
        num_channels: int,
        channel_base: int = 32768,
        channel_max: int = 512,
        use_noise: bool = True,
    ):
        super().__init__()
        log2 = check_resolution(resolution)
        self.w_dim, self.resolution, self.num_channels = w_dim, resolution, num_channels
        self.resolutions = [2**i for i in range(2, log2 + 1)]
        self.blocks = nn.ModuleList()
        self.num_ws = 0
        for res in self.resolutions:
            in_ch = channels_at(res // 2, channel_base, channel_max) if res > 4 else 0
            block = SynthesisBlock(in_ch, channels_at(res, channel_base, channel_max), w_dim, res, num_channels,
                                   use_noise)
            self.blocks.append(block)
            self.num_ws += block.num_conv
        self.num_ws += 1  # the last toRGB

    def forward(self, ws: torch.Tensor, noise_mode: str = "random", fused: bool = True) -> torch.Tensor:
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be (N, {self.num_ws}, {self.w_dim}), got {tuple(ws.shape)}")
        x = img = None
        i = 0
        for block in cast("list[SynthesisBlock]", self.blocks):
            x, img = block(x, img, ws[:, i : i + block.num_conv + 1], noise_mode, fused)
            i += block.num_conv
        assert img is not None  # one block per resolution from 4 up
        return img


class Generator(nn.Module):
    """StyleGAN2 generator: mapping + skip synthesis, truncation, style mixing.

    ``forward(z, c=None, truncation_psi=1.0, truncation_cutoff=None, noise_mode="random",
    ws=None, return_ws=False)`` returns images ``(N, num_channels, R, R)``, fp32, nominally in
    [-1, 1] (not clamped), or ``(img, ws)`` with ``return_ws=True``. Pass ``ws=`` instead of
    ``z`` to skip the mapping (works through DDP wrappers, which hide ``.synthesis``).

    In training mode each sample, with probability ``style_mixing_prob``, takes the ws of a
    second latent from a random layer onwards (style-mixing regularization); eval mode never
    mixes. ``fused_modconv=None`` uses the grouped (fused) modulated conv in eval mode and the
    activation-scaling form in training mode (see :func:`layers.modulated_conv2d`).
    """

    def __init__(
        self,
        resolution: int = 256,
        num_channels: int = 3,
        z_dim: int = 512,
        w_dim: int = 512,
        c_dim: int = 0,
        mapping_layers: int = 8,
        mapping_lr_multiplier: float = 0.01,
        w_avg_beta: float = 0.995,
        channel_base: int = 32768,
        channel_max: int = 512,
        style_mixing_prob: float = 0.9,
        use_noise: bool = True,
        fused_modconv: bool | None = None,
    ):
        super().__init__()
        if num_channels < 1:
            raise ValueError("num_channels must be >= 1")
        if not 0.0 <= style_mixing_prob <= 1.0:
            raise ValueError("style_mixing_prob must be in [0, 1]")
        self.resolution, self.num_channels = resolution, num_channels
        self.z_dim, self.w_dim, self.c_dim = z_dim, w_dim, c_dim
        self.style_mixing_prob = style_mixing_prob
        self.fused_modconv = fused_modconv
        self.synthesis = SynthesisNetwork(w_dim, resolution, num_channels, channel_base, channel_max, use_noise)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            z_dim, w_dim, self.num_ws, c_dim, mapping_layers, mapping_lr_multiplier, w_avg_beta
        )

    def mix_styles(self, ws: torch.Tensor, c: torch.Tensor | None = None, prob: float | None = None) -> torch.Tensor:
        """Per sample, with probability ``prob``, replace ws from a random cutoff on by a fresh latent's."""
        prob = self.style_mixing_prob if prob is None else prob
        if prob <= 0 or self.num_ws < 2:
            return ws
        n, dev = ws.shape[0], ws.device
        ws2 = self.mapping(torch.randn(n, self.z_dim, device=dev), c, update_w_avg=False)
        cutoff = torch.randint(1, self.num_ws, (n,), device=dev)
        cutoff = torch.where(torch.rand(n, device=dev) < prob, cutoff, torch.full_like(cutoff, self.num_ws))
        take2 = torch.arange(self.num_ws, device=dev).unsqueeze(0) >= cutoff.unsqueeze(1)
        return torch.where(take2.unsqueeze(-1), ws2, ws)

    def forward(
        self,
        z: torch.Tensor | None = None,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "random",
        *,
        ws: torch.Tensor | None = None,
        return_ws: bool = False,
    ):
        if ws is None:
            ws = self.mapping(z, c, truncation_psi, truncation_cutoff)
            if self.training and self.style_mixing_prob > 0:
                ws = self.mix_styles(ws, c)
        fused = (not self.training) if self.fused_modconv is None else self.fused_modconv
        img = self.synthesis(ws, noise_mode=noise_mode, fused=fused)
        return (img, ws) if return_ws else img
