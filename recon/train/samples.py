"""Sample grids: rows of panels (input | output | target) saved as PNG."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor


def make_grid(panels: list[Tensor], pad: int = 2) -> Tensor:
    """Arrange ``panels`` (each ``(N, C, H, W)`` in [0, 1]) as N rows of side-by-side panels.

    Returns ``(3, N*(H+pad), len(panels)*(W+pad))`` in [0, 1]; 1-channel panels become gray.
    """
    rows = []
    for row in zip(*[p.detach().float().cpu() for p in panels]):
        tiles = [t.expand(3, -1, -1) if t.shape[0] == 1 else t[:3] for t in row]
        height = max(t.shape[-2] for t in tiles)
        tiles = [F.pad(t, (0, pad, 0, pad + height - t.shape[-2]), value=1.0) for t in tiles]
        rows.append(torch.cat(tiles, dim=-1))
    width = max(r.shape[-1] for r in rows)
    rows = [F.pad(r, (0, width - r.shape[-1]), value=1.0) for r in rows]
    return torch.cat(rows, dim=-2).clamp(0, 1)


def save_grid(panels: list[Tensor], path: Path) -> Path:
    """Save :func:`make_grid` of ``panels`` as an 8-bit PNG at ``path``."""
    from PIL import Image

    grid = make_grid(panels)
    array = (grid.permute(1, 2, 0).numpy() * 255).round().astype("uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path
