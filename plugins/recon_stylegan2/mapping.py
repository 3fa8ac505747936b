"""StyleGAN2 mapping network and the width/resolution helpers shared by G and D."""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import EqualLinear, normalize_2nd_moment

__all__ = ["MappingNetwork", "check_resolution", "channels_at"]


def check_resolution(resolution: int) -> int:
    if not (isinstance(resolution, int) and 8 <= resolution <= 1024 and resolution & (resolution - 1) == 0):
        raise ValueError(f"resolution must be a power of two in [8, 1024], got {resolution!r}")
    return int(math.log2(resolution))


def channels_at(res: int, channel_base: int, channel_max: int) -> int:
    return max(1, min(channel_base // res, channel_max))


class MappingNetwork(nn.Module):
    """``z (N, z_dim)`` [+ label ``c``] -> ``w`` broadcast to ``(N, num_ws, w_dim)``.

    ``z`` is pixel-normalised, then ``num_layers`` equalized-lr FC layers with lr multiplier
    0.01 (leaky ReLU). In training mode the batch mean of ``w`` updates ``w_avg`` (EMA, decay
    ``w_avg_beta``), which the truncation trick pulls towards: ``w' = w_avg + psi (w - w_avg)``.
    ``num_ws=None`` returns ``(N, w_dim)`` and tracks no average (the discriminator's label
    embedding uses that form).
    """

    w_avg: torch.Tensor  # buffer, when w_avg_beta is set

    def __init__(
        self,
        z_dim: int,
        w_dim: int,
        num_ws: int | None,
        c_dim: int = 0,
        num_layers: int = 8,
        lr_multiplier: float = 0.01,
        w_avg_beta: float | None = 0.995,
    ):
        super().__init__()
        if z_dim + c_dim <= 0:
            raise ValueError("the mapping network needs z_dim > 0 or c_dim > 0")
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.w_avg_beta = w_avg_beta if num_ws is not None else None
        self.embed = EqualLinear(c_dim, w_dim) if c_dim > 0 else None
        features = [z_dim + (w_dim if c_dim > 0 else 0)] + [w_dim] * num_layers
        self.layers = nn.Sequential(
            *[
                EqualLinear(features[i], features[i + 1], activation="lrelu", lr_multiplier=lr_multiplier)
                for i in range(num_layers)
            ]
        )
        if self.w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self,
        z: torch.Tensor | None,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        update_w_avg: bool = True,
    ) -> torch.Tensor:
        parts = []
        if self.z_dim > 0:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"z must be (N, {self.z_dim}), got {None if z is None else tuple(z.shape)}")
            parts.append(normalize_2nd_moment(z.float()))
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                raise ValueError(f"c must be (N, {self.c_dim}) for a conditional network")
            assert self.embed is not None  # built when c_dim > 0
            parts.append(normalize_2nd_moment(self.embed(c.float())))
        x = self.layers(torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]).float()

        if self.w_avg_beta is not None and self.training and update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is None:
            return x
        x = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            if self.w_avg_beta is None:
                raise ValueError("truncation needs w_avg tracking (w_avg_beta is None)")
            cut = self.num_ws if truncation_cutoff is None else truncation_cutoff
            head = self.w_avg.lerp(x[:, :cut], truncation_psi)
            x = torch.cat([head, x[:, cut:]], dim=1)
        return x
