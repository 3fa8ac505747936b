"""Inpainting masks: centre square, random rectangles, free-form brush strokes.

Every mask is a ``(1, H, W)`` float32 tensor with **1 in the hole** (pixels to fill) and 0
where the image is known. Random masks draw only from the ``torch.Generator`` they are given,
so one seed gives one mask.

- ``center``: the square hole of context encoders (Pathak et al. 2016: 64x64 in 128x128).
- ``rectangles``: 1..``count`` axis-aligned rectangles at random positions (Iizuka et al. 2017).
- ``brush``: free-form strokes, polylines of random angles and lengths drawn with a round brush,
  in the spirit of DeepFill v2's training masks (Yu et al. 2019).
- ``mixed``: rectangles or brush strokes, with equal probability per sample.

These are the task's mask policy; :func:`operator` hands them to core's inpainting operator
(:class:`recon.physics.Inpainting`), which hides the hole and fills it (``fill``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from recon.api import Inpainting, ranged

MaskKind = Literal["center", "rectangles", "brush", "mixed"]


@dataclass
class MaskConfig:
    """The ``mask`` config section. Sizes are fractions of the image side."""

    kind: MaskKind = "center"
    size: float = ranged(0.5, gt=0, le=1)  # centre square side; largest rectangle side
    min_size: float = ranged(0.15, gt=0, le=1)  # smallest rectangle side
    count: int = ranged(2, ge=1)  # rectangles per image (1..count)
    strokes: int = ranged(4, ge=1)  # brush strokes per image (1..strokes)
    max_vertices: int = ranged(8, ge=1)  # segments per stroke (1..max_vertices)
    brush_width: float = ranged(0.12, gt=0, le=1)  # largest brush diameter
    fill: Literal["zero", "mean", "smooth", "biharmonic"] = "zero"  # hole value in the input (see fill.py)
    file: str = ""  # recon predict: the hole mask image or folder (--mask); "" = <input>_mask.png beside it


def _uniform(rng: torch.Generator | None, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand(1, generator=rng))


def _randint(rng: torch.Generator | None, low: int, high: int) -> int:
    """An integer in ``[low, high]`` (inclusive)."""
    return int(torch.randint(low, high + 1, (1,), generator=rng))


def _pixels(fraction: float, side: int) -> int:
    """``fraction * side`` rounded half up, at least 1."""
    return max(1, int(fraction * side + 0.5))


def center_mask(h: int, w: int, size: float) -> Tensor:
    """A centred ``hs x ws`` hole, ``hs = size * H`` rounded half up (likewise ``ws``), with its
    top-left corner at ``((H - hs) // 2, (W - ws) // 2)``."""
    hs, ws = _pixels(size, h), _pixels(size, w)
    top, left = (h - hs) // 2, (w - ws) // 2
    mask = torch.zeros(1, h, w)
    mask[:, top:top + hs, left:left + ws] = 1
    return mask


def rectangles_mask(h: int, w: int, rng: torch.Generator | None, max_size: float, min_size: float,
                    count: int) -> Tensor:
    """1..``count`` rectangles, sides uniform in ``[min_size, max_size]`` of the image side."""
    mask = torch.zeros(1, h, w)
    for _ in range(_randint(rng, 1, count)):
        hs = _pixels(_uniform(rng, min_size, max_size), h)
        ws = _pixels(_uniform(rng, min_size, max_size), w)
        top, left = _randint(rng, 0, h - hs), _randint(rng, 0, w - ws)
        mask[:, top:top + hs, left:left + ws] = 1
    return mask


def _segment_distance(ys: Tensor, xs: Tensor, p0: tuple[float, float], p1: tuple[float, float]) -> Tensor:
    """Distance of every pixel centre ``(ys, xs)`` to the segment ``p0 -> p1`` (``(y, x)`` pairs)."""
    dy, dx = p1[0] - p0[0], p1[1] - p0[1]
    length2 = dy * dy + dx * dx
    t = ((ys - p0[0]) * dy + (xs - p0[1]) * dx) / length2 if length2 > 0 else torch.zeros_like(ys)
    t = t.clamp(0, 1)
    return torch.hypot(ys - (p0[0] + t * dy), xs - (p0[1] + t * dx))


def brush_mask(h: int, w: int, rng: torch.Generator | None, strokes: int, max_vertices: int,
               brush_width: float) -> Tensor:
    """Free-form strokes: each a polyline from a random start, turning by up to 60 degrees
    at each vertex, segment lengths 5-25% of the side, drawn with a round brush of diameter
    30-100% of ``brush_width`` x side (at least 2 pixels). Vertices stay inside the image."""
    side = min(h, w)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    hole = torch.zeros(h, w, dtype=torch.bool)
    for _ in range(_randint(rng, 1, strokes)):
        radius = max(1.0, _uniform(rng, 0.3, 1.0) * brush_width * side / 2)
        point = (_uniform(rng, 0, h - 1), _uniform(rng, 0, w - 1))
        angle = _uniform(rng, 0, 2 * math.pi)
        for _ in range(_randint(rng, 1, max_vertices)):
            angle += _uniform(rng, -math.pi / 3, math.pi / 3)
            length = _uniform(rng, 0.05, 0.25) * side
            nxt = (min(max(point[0] + length * math.sin(angle), 0.0), h - 1.0),
                   min(max(point[1] + length * math.cos(angle), 0.0), w - 1.0))
            hole |= _segment_distance(ys, xs, point, nxt) <= radius
            point = nxt
    return hole[None].float()


def make_mask(cfg: MaskConfig, h: int, w: int, rng: torch.Generator | None) -> Tensor:
    """The ``(1, H, W)`` hole mask of ``cfg.kind`` (``rng`` unused for ``center``; ``None``: torch's
    global generator)."""
    kind = cfg.kind
    if kind == "mixed":
        kind = "rectangles" if float(torch.rand(1, generator=rng)) < 0.5 else "brush"
    if kind == "center":
        return center_mask(h, w, cfg.size)
    if kind == "rectangles":
        return rectangles_mask(h, w, rng, cfg.size, cfg.min_size, cfg.count)
    if kind == "brush":
        return brush_mask(h, w, rng, cfg.strokes, cfg.max_vertices, cfg.brush_width)
    raise ValueError(f"unknown mask kind '{kind}'")


def operator(cfg: MaskConfig) -> Inpainting:
    """The forward operator of ``cfg``: holes from :func:`make_mask`, filled by ``cfg.fill``."""

    def sampler(shape: tuple[int, int], rng: torch.Generator | None) -> Tensor:
        return make_mask(cfg, shape[0], shape[1], rng)
    return Inpainting(cfg.fill, mask_sampler=sampler)
