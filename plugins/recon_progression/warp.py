"""Differentiable 2D warps: stationary velocity fields, their exponential, Jacobians.

Conventions (used by the simulation, the generator and the baselines alike):

* a *sampling field* ``d`` ``(N, 2, H, W)`` is in pixels, channel 0 along H (rows), channel 1
  along W (columns); the warped image is ``warp(x, d)(p) = x(p + d(p))`` (bilinear, border
  values outside the grid);
* a stationary velocity field ``v`` gives the diffeomorphic sampling field ``exp(t v)`` by
  scaling and squaring (Arsigny et al. 2006): ``d_0 = t v / 2^K``, ``d_{k+1} = d_k + d_k o (id + d_k)``;
  ``exp(0 v)`` is exactly the identity and the deformation grows continuously with ``t``;
* the atrophy map is ``log det(I + grad d)`` in follow-up space: how much baseline area a
  follow-up pixel draws from (> 0: tissue shrank there, < 0: it expanded, e.g. ventricles).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

SQUARINGS = 6


def _grid(d: Tensor) -> Tensor:
    """``(N, 2, H, W)`` pixel sampling field -> ``(N, H, W, 2)`` grid of ``grid_sample`` in [-1, 1]."""
    n, _, h, w = d.shape
    rows = torch.arange(h, device=d.device, dtype=d.dtype).view(1, h, 1) + d[:, 0]
    cols = torch.arange(w, device=d.device, dtype=d.dtype).view(1, 1, w) + d[:, 1]
    return torch.stack([2 * cols / max(w - 1, 1) - 1, 2 * rows / max(h - 1, 1) - 1], dim=-1)


def warp(x: Tensor, d: Tensor, mode: str = "bilinear") -> Tensor:
    """``x (N, C, H, W)`` sampled at ``p + d(p)`` (``d (N, 2, H, W)`` pixels); border padding."""
    return F.grid_sample(x, _grid(d.to(x.dtype)), mode=mode, padding_mode="border", align_corners=True)


def exp_field(v: Tensor, t: Tensor | float, squarings: int = SQUARINGS) -> Tensor:
    """The sampling field ``exp(t v)`` ``(N, 2, H, W)`` of velocity ``v (N, 2, H, W)`` (pixels per
    unit of ``t``) and times ``t`` (scalar or ``(N,)``), by ``squarings`` scaling-and-squaring steps."""
    if not isinstance(t, Tensor):
        t = torch.full((v.shape[0],), float(t), dtype=v.dtype, device=v.device)
    d = v * t.to(v.dtype).view(-1, 1, 1, 1) / 2**squarings
    for _ in range(squarings):
        d = d + warp(d, d)
    return d


def log_jacobian(d: Tensor, eps: float = 1e-3) -> Tensor:
    """``(N, 1, H, W)`` ``log det(I + grad d)`` by central differences (the atrophy map)."""
    dy = torch.gradient(d, dim=2)  # d/d(row) of both components
    dx = torch.gradient(d, dim=3)
    a, b = 1 + dy[0][:, 0], dx[0][:, 0]  # d(row comp)/d row, d(row comp)/d col
    c, e = dy[0][:, 1], 1 + dx[0][:, 1]
    det = a * e - b * c
    return torch.log(det.clamp_min(eps)).unsqueeze(1)


def gaussian_smooth(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of ``(N, C, H, W)`` (replicate padding), ``sigma`` in pixels."""
    if sigma <= 0:
        return x
    radius = max(1, int(round(3 * sigma)))
    k = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (k / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def spatial_gradient(x: Tensor) -> Tensor:
    """``(N, 1, H, W)`` -> ``(N, 2, H, W)``: d/d row, d/d column (central differences)."""
    gy, gx = torch.gradient(x[:, 0], dim=(1, 2))
    return torch.stack([gy, gx], dim=1)
