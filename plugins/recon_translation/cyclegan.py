"""CycleGAN's networks (Zhu et al. 2017) as the two modules the trainer knows.

The trainer owns one generator and one discriminator (one optimizer, one EMA, one checkpoint
entry each), so CycleGAN's four networks are packed in two modules:

- :class:`CycleGenerator` holds ``g_ab`` and ``g_ba``. Called with one batch it is ``G_AB``
  (what evaluation, samples and ``recon predict`` use); called with both domains it runs the
  whole cycle in one forward pass (one call per phase, as DDP wants).
- :class:`CycleDiscriminator` holds ``d_a`` and ``d_b`` and judges an A batch and a B batch.

The generator of each direction is pix2pix's U-Net (:mod:`recon_translation.networks`) or
CycleGAN's ResNet generator (:class:`ResnetGenerator`), optionally as the spatial correction
of a per-pixel intensity map (:class:`PointwiseResidual`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recon.api import make_norm

if TYPE_CHECKING:
    from recon_translation.baselines import IntensityModels

#: keys of :meth:`CycleGenerator.forward` with both domains: fakes, and with ``cycle`` the rest
FAKES = ("fake_b", "fake_a")
CYCLE = ("rec_a", "rec_b", "idt_b", "idt_a")


class ResnetGenerator(nn.Module):
    """CycleGAN's ResNet generator (``c7s1-C, d2C, d4C, R4C x blocks, u2C, uC, c7s1-out``).

    Reflection padding, ``norm`` after every convolution but the last, ReLU; ``blocks=9``,
    ``channels=64`` is ``resnet_9blocks``. ``output``: ``tanh`` / ``linear`` map [-1, 1] to
    [0, 1]; ``raw`` returns the last layer's output (a residual; that layer starts at zero).

    Shapes: ``(N, C_in, H, W) -> (N, C_out, H, W)``, inputs in [0, 1], any ``H, W``
    (padded by replication to a multiple of 4 and cropped back).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, channels: int = 64, blocks: int = 9,
                 norm: str = "instance", output: str = "tanh") -> None:
        super().__init__()
        if output not in ("tanh", "linear", "raw"):
            raise ValueError(f"unknown output '{output}' (tanh, linear or raw)")
        self.output = output
        bias = norm != "batch"
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, channels, 7, bias=bias),
                                   make_norm(norm, channels), nn.ReLU(True)]
        width = channels
        for _ in range(2):
            layers += [nn.Conv2d(width, 2 * width, 3, 2, 1, bias=bias), make_norm(norm, 2 * width), nn.ReLU(True)]
            width *= 2
        layers += [_ResidualBlock(width, norm, bias) for _ in range(blocks)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(width, width // 2, 3, 2, 1, output_padding=1, bias=bias),
                       make_norm(norm, width // 2), nn.ReLU(True)]
            width //= 2
        self.last = nn.Conv2d(width, out_channels, 7)
        self.body = nn.Sequential(*layers, nn.ReflectionPad2d(3))
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        if output == "raw":
            nn.init.zeros_(self.last.weight)
            assert self.last.bias is not None
            nn.init.zeros_(self.last.bias)

    def forward(self, x: Tensor) -> Tensor:
        from recon_translation.networks import pad_to_multiple

        padded, (h, w) = pad_to_multiple(x * 2 - 1, 4)
        y = self.last(self.body(padded))[..., :h, :w]
        if self.output == "raw":
            return y
        return ((torch.tanh(y) if self.output == "tanh" else y) + 1) / 2


class _ResidualBlock(nn.Module):
    def __init__(self, width: int, norm: str, bias: bool) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3, bias=bias), make_norm(norm, width),
                                   nn.ReLU(True), nn.ReflectionPad2d(1), nn.Conv2d(width, width, 3, bias=bias),
                                   make_norm(norm, width))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x)


class PointwiseResidual(nn.Module):
    """``G(x) = P(x) + N(x)``: a per-pixel intensity map ``P`` (1x1 convolutions, ``hidden``
    units, LeakyReLU: any smooth intensity lookup, contrast inversion included) plus the
    spatial network ``N`` (built with ``output="raw"``, starting at zero).

    Shapes: ``(N, C, H, W) -> (N, C, H, W)``.
    """

    def __init__(self, spatial: nn.Module, channels: int = 1, hidden: int = 32) -> None:
        super().__init__()
        self.pointwise = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.LeakyReLU(0.2),
                                       nn.Conv2d(hidden, hidden, 1), nn.LeakyReLU(0.2),
                                       nn.Conv2d(hidden, channels, 1))
        self.spatial = spatial

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(x * 2 - 1) + self.spatial(x)


class QuantileResidual(nn.Module):
    """``G(x) = Q(x) + P(x) + N(x)``: the unpaired quantile map ``Q`` of ``intensity``
    (:meth:`recon_translation.unpaired_baselines.UnpairedIntensity.quantile_map`, A -> B or its
    inverse) corrected per pixel by ``P`` (a :class:`PointwiseResidual`'s 1x1 MLP, last layer
    starting at zero) and spatially by ``N`` (``output="raw"``, starting at zero).

    Shapes: ``(N, C, H, W) -> (N, C, H, W)``.
    """

    def __init__(self, spatial: nn.Module, intensity: Any, direction: str, channels: int = 1,
                 hidden: int = 32) -> None:
        super().__init__()
        self.correction = PointwiseResidual(spatial, channels, hidden)
        last = self.correction.pointwise[-1]
        assert isinstance(last, nn.Conv2d) and last.bias is not None
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.intensity, self.direction = intensity, direction

    def forward(self, x: Tensor) -> Tensor:
        return self.intensity.quantile_map(x, self.direction) + self.correction(x)


class ZeroBackground(nn.Module):
    """``G(x) * mask(x)``: pixels farther than ``margin`` pixels from any source signal (air,
    outside a brain mask) stay at zero in the output -- no MR contrast gives air a signal; the
    margin leaves room for a rim that one contrast shows and the other does not (partial-volume
    CSF). On data whose background holds noise (``x > 0`` almost everywhere) it changes nothing.

    Shapes: ``(N, C, H, W) -> (N, C, H, W)``; the mask is ``(N, 1, H, W)``, the source's
    signal dilated by a ``2 margin + 1`` square.
    """

    def __init__(self, net: nn.Module, margin: int = 3) -> None:
        super().__init__()
        self.net, self.margin = net, margin

    def forward(self, x: Tensor) -> Tensor:
        signal = x.detach().amax(dim=1, keepdim=True)
        if self.margin > 0:
            signal = F.max_pool2d(signal, 2 * self.margin + 1, 1, self.margin)
        return self.net(x) * (signal > 0).to(x.dtype)


class CycleGenerator(nn.Module):
    """``g_ab`` (A -> B) and ``g_ba`` (B -> A), plus the baselines' training statistics.

    ``intensity`` (:class:`recon_translation.baselines.IntensityModels`) holds buffers only,
    so every checkpoint carries what the baselines were fitted with.

    ``forward(a)``: ``G_AB(a)``, ``(N, C, H, W) -> (N, C, H, W)``.
    ``forward(a, b, cycle)``: a dict of ``(N, C, H, W)`` tensors: ``fake_b = G_AB(a)``,
    ``fake_a = G_BA(b)``; with ``cycle`` also ``rec_a = G_BA(fake_b)``, ``rec_b = G_AB(fake_a)``
    and the identity mappings ``idt_b = G_AB(b)``, ``idt_a = G_BA(a)``.
    """

    def __init__(self, g_ab: nn.Module, g_ba: nn.Module, intensity: IntensityModels) -> None:
        super().__init__()
        self.g_ab, self.g_ba = g_ab, g_ba
        self.intensity = intensity

    def forward(self, a: Tensor, b: Tensor | None = None, cycle: bool = True, identity: bool = True) -> Any:
        if b is None:
            return self.g_ab(a)
        out = {"fake_b": self.g_ab(a), "fake_a": self.g_ba(b)}
        if cycle:
            out["rec_a"] = self.g_ba(out["fake_b"])
            out["rec_b"] = self.g_ab(out["fake_a"])
            if identity:
                out["idt_b"] = self.g_ab(b)
                out["idt_a"] = self.g_ba(a)
        return out


class CycleDiscriminator(nn.Module):
    """``d_a`` judges domain-A images, ``d_b`` domain-B images.

    ``forward(a, b)``: ``(D_A(a), D_B(b))`` logits (any shape, e.g. PatchGAN maps);
    ``forward(a)`` alone: ``D_B(a)`` (a B-domain judge for a single batch, as a single-D tool would call it).
    """

    def __init__(self, d_a: nn.Module, d_b: nn.Module) -> None:
        super().__init__()
        self.d_a, self.d_b = d_a, d_b

    def forward(self, a: Tensor, b: Tensor | None = None) -> Any:
        if b is None:
            return self.d_b(a)
        return self.d_a(a), self.d_b(b)


def build_direction(m: Any, intensity: Any, direction: str, channels: int = 1) -> nn.Module:
    """One direction's generator (``ab`` or ``ba``) from the ``model`` section
    (:class:`recon_translation.unpaired_config.UnpairedModelConfig`)."""
    from recon_translation.networks import UNetGenerator

    residual = m.output in ("pointwise_residual", "quantile_residual")
    output = "raw" if residual else m.output
    spatial: nn.Module
    if m.generator == "resnet":
        spatial = ResnetGenerator(channels, channels, m.channels, m.resnet_blocks, m.norm, output)
    else:
        spatial = UNetGenerator(channels, channels, m.num_downs, m.channels, m.norm, m.dropout, output)
    net: nn.Module = spatial
    if m.output == "quantile_residual":
        net = QuantileResidual(spatial, intensity, direction, channels, m.pointwise_channels)
    elif residual:
        net = PointwiseResidual(spatial, channels, m.pointwise_channels)
    return ZeroBackground(net, m.background_margin) if m.zero_background else net


def build_cyclegan(m: Any, intensity: IntensityModels, channels: int = 1) -> tuple[CycleGenerator, CycleDiscriminator]:
    """Both generators (A->B first, from torch's global RNG) and both PatchGANs."""
    from recon.api import PatchGANDiscriminator

    g_ab, g_ba = build_direction(m, intensity, "ab", channels), build_direction(m, intensity, "ba", channels)
    generator = CycleGenerator(g_ab, g_ba, intensity)
    discriminator = CycleDiscriminator(PatchGANDiscriminator(channels, m.d_channels, m.d_layers, m.d_norm),
                                       PatchGANDiscriminator(channels, m.d_channels, m.d_layers, m.d_norm))
    return generator, discriminator
