"""Networks of ``mri_progression``: a deformation generator and the conditional discriminator's input.

:class:`ProgressionGenerator` predicts, from the baseline scan and the group, a stationary
velocity field ``v`` (pixels per year; a small U-Net, its output smoothed by a fixed Gaussian)
and returns the baseline warped by the diffeomorphism ``exp(t v)`` for the interval ``t``
(:mod:`recon_progression.warp`). Consequences by construction: a zero interval returns the
baseline exactly, the deformation grows continuously with the interval along one flow, and
the atrophy map is the log-Jacobian of the field. The output layer starts at zero, so an
untrained generator is the no-change baseline.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recon_progression.warp import exp_field, gaussian_smooth, warp

GROUPS = 3


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.LeakyReLU(0.2),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.LeakyReLU(0.2))


class UNet(nn.Module):
    """``(N, c_in, H, W) -> (N, c_out, H, W)`` with ``levels`` stride-2 levels (H, W padded to a
    multiple of ``2**levels`` and cropped back), widths ``channels * 2**level`` (at most 8x)."""

    def __init__(self, c_in: int, c_out: int, channels: int = 16, levels: int = 3) -> None:
        super().__init__()
        widths = [channels * 2 ** min(i, 3) for i in range(levels + 1)]
        self.levels = levels
        self.down = nn.ModuleList([_block(c_in, widths[0])] +
                                  [_block(widths[i], widths[i + 1]) for i in range(levels)])
        self.up = nn.ModuleList([_block(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(levels))])
        self.head = nn.Conv2d(widths[0], c_out, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)  # type: ignore[arg-type]

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        m = 2**self.levels
        ph, pw = (-h) % m, (-w) % m
        x = F.pad(x, (0, pw, 0, ph))
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.avg_pool2d(x, 2))
            skips.append(x)
        skips.pop()
        for block in self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skips.pop()], dim=1))
        return self.head(x)[..., :h, :w]


class ProgressionGenerator(nn.Module):
    """``(baseline (N, 1, H, W), years (N,) or (N, 1), group (N, 3)) -> (follow-up (N, 1, H, W),
    aux)``, aux = ``{"velocity": (N, 2, H, W) pixels/year, "field": (N, 2, H, W) sampling field}``.

    Args:
        channels, levels: the U-Net's width and depth.
        smooth: std (pixels) of the Gaussian that smooths the velocity (a smooth, invertible flow).
        use_group: feed the group's one-hot maps to the U-Net (else the group is ignored).
        half: run the U-Net on the 2x average-pooled input and upsample its velocity (4x cheaper).
    """

    def __init__(self, channels: int = 16, levels: int = 3, smooth: float = 2.0, use_group: bool = True,
                 half: bool = True) -> None:
        super().__init__()
        self.half_res = bool(half)
        self.unet = UNet(1 + GROUPS, 2, channels, levels)
        self.smooth = float(smooth)
        self.use_group = bool(use_group)

    def velocity(self, baseline: Tensor, group: Tensor | None = None) -> Tensor:
        """``(N, 2, H, W)`` velocity (pixels per year) of the baseline (and group)."""
        n, _, h, w = baseline.shape
        maps = torch.zeros(n, GROUPS, h, w, dtype=baseline.dtype, device=baseline.device)
        if group is not None and self.use_group:
            maps = maps + group.to(baseline.dtype).view(n, GROUPS, 1, 1)
        x = torch.cat([baseline, maps], dim=1)
        if self.half_res:  # the velocity is smooth: predict it on a 2x coarser grid, upsample bilinearly
            v = F.interpolate(self.unet(F.avg_pool2d(x, 2, ceil_mode=True)), scale_factor=2, mode="bilinear",
                              align_corners=False)[..., :h, :w]
        else:
            v = self.unet(x)
        return gaussian_smooth(v, self.smooth)

    def forward(self, baseline: Tensor, years: Tensor, group: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        v = self.velocity(baseline, group)
        field = exp_field(v, years.reshape(-1))
        return warp(baseline, field), {"velocity": v, "field": field}


def conditional_input(max_years: float):  # noqa: ANN201 - a closure for Parts.discriminator_input
    """``(batch, images) -> (N, 6, H, W)``: baseline, image, interval map (years / max_years) and
    the group's one-hot maps, the condition D judges the image under."""

    def d_input(batch: dict[str, Tensor], images: Tensor) -> Tensor:
        n, _, h, w = images.shape
        years = batch["years"].to(images).reshape(n, 1, 1, 1).expand(n, 1, h, w) / max_years
        group = batch["group"].to(images).reshape(n, GROUPS, 1, 1).expand(n, GROUPS, h, w)
        return torch.cat([batch["input"].to(images), images, years, group], dim=1)

    return d_input
