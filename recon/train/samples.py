"""Sample grids: labelled rows of panels (input | output | target) with a zoomed detail, saved as PNG.

Each example of the batch is one row of panels (``Parts.visualize``); with ``zoom`` a second
row under it shows the same detail of every panel magnified (the window where the target
has the most structure, outlined in every panel), so what the adversarial term changes
(texture, edges) is visible at a glance. A header names the columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

def sample_panels(parts: Any, cfg: Any, batch: dict[str, Any], model: Any, twin: tuple[str, Any] | None,
                  rng: Callable[[], "torch.Generator"]) -> tuple[list[Tensor], list[str]]:
    """The panels (``Parts.visualize``) of ``model`` on ``batch`` and their captions; with
    ``twin`` (``(label, generator)``, e.g. the non-adversarial run of ``eval.compare_checkpoint``)
    the twin's output panel is inserted before this run's, which is captioned ``adversarial``.
    ``rng()`` makes the generator RNG of each call (the same draws for both models)."""
    from recon.task import split_generated

    fake, _ = split_generated(parts.generate(model, batch, rng()))
    panels = parts.visualize(batch, fake)
    labels = list(parts.sample_labels) if len(parts.sample_labels) == len(panels) else []
    if twin is not None and "output" in labels:
        at = labels.index("output")
        twin_fake, _ = split_generated(parts.generate(twin[1], batch, rng()))
        panels.insert(at, parts.visualize(batch, twin_fake)[at])
        labels[at:at + 1] = [twin[0], "adversarial" if cfg.loss.adversarial > 0 else "output"]
    return panels, labels


BOX_COLOR = (1.0, 0.8, 0.0)  # the outline of the zoomed window (amber)
HEADER_PX = 22


def make_grid(panels: list[Tensor], pad: int = 2) -> Tensor:
    """Arrange ``panels`` (each ``(N, C, H, W)`` in [0, 1]) as N rows of side-by-side panels.

    Returns ``(3, N*(H+pad), len(panels)*(W+pad))`` in [0, 1]; 1-channel panels become gray.
    """
    rows = []
    for row in zip(*[p.detach().float().cpu() for p in panels], strict=True):
        tiles = [_rgb(t) for t in row]
        height = max(t.shape[-2] for t in tiles)
        tiles = [F.pad(t, (0, pad, 0, pad + height - t.shape[-2]), value=1.0) for t in tiles]
        rows.append(torch.cat(tiles, dim=-1))
    width = max(r.shape[-1] for r in rows)
    rows = [F.pad(r, (0, width - r.shape[-1]), value=1.0) for r in rows]
    return torch.cat(rows, dim=-2).clamp(0, 1)


def _rgb(tile: Tensor) -> Tensor:
    return tile.expand(3, -1, -1) if tile.shape[0] == 1 else tile[:3]


def detail_window(target: Tensor, fraction: float = 0.25) -> tuple[int, int, int]:
    """``(top, left, size)`` of the square window (side ``fraction`` of the shorter side, at
    least 8 px) where the target ``(C, H, W)`` varies most (largest local variance)."""
    gray = target.float().mean(0, keepdim=True)[None]
    h, w = gray.shape[-2:]
    size = max(8, min(int(min(h, w) * fraction), h, w))
    mean = F.avg_pool2d(gray, size, stride=1)
    variance = F.avg_pool2d(gray * gray, size, stride=1) - mean * mean
    index = int(variance.flatten().argmax())
    return index // variance.shape[-1], index % variance.shape[-1], size


def _outline(tile: Tensor, top: int, left: int, size: int) -> Tensor:
    """A copy of ``tile`` (3, H, W) with a 1-px box drawn around the window."""
    out = tile.clone()
    color = torch.tensor(BOX_COLOR)[:, None]
    bottom, right = min(top + size, out.shape[-2]) - 1, min(left + size, out.shape[-1]) - 1
    out[:, top, left:right + 1] = color
    out[:, bottom, left:right + 1] = color
    out[:, top:bottom + 1, left] = color
    out[:, top:bottom + 1, right] = color
    return out


def with_zoom(panels: list[Tensor], target_index: int) -> list[Tensor]:
    """Panels of twice as many rows: each example, then its detail window magnified to the
    panel size (nearest neighbour), the window chosen on panel ``target_index``."""
    panels = [_rgb_batch(p.detach().float().cpu()) for p in panels]
    n = panels[0].shape[0]
    out: list[list[Tensor]] = [[] for _ in panels]
    for i in range(n):
        top, left, size = detail_window(panels[target_index][i])
        for k, panel in enumerate(panels):
            tile = panel[i]
            if tile.shape[-2:] != panels[target_index][i].shape[-2:]:  # a smaller panel: not zoomed
                out[k] += [tile, torch.ones_like(tile)]
                continue
            crop = tile[:, top:top + size, left:left + size][None]
            zoomed = F.interpolate(crop, size=tile.shape[-2:], mode="nearest")[0]
            out[k] += [_outline(tile, top, left, size), zoomed]
    return [torch.stack(column) for column in out]


def _rgb_batch(panel: Tensor) -> Tensor:
    return panel.expand(-1, 3, -1, -1) if panel.shape[1] == 1 else panel[:, :3]


def save_grid(panels: list[Tensor], path: Path, labels: Sequence[str] | None = None,
              zoom: bool = False) -> Path:
    """Save :func:`make_grid` of ``panels`` as an 8-bit PNG at ``path``.

    Args:
        panels: ``(N, C, H, W)`` tensors in [0, 1], shown left to right.
        labels: one caption per panel, written above its column (None: no header).
        zoom: add a magnified detail row under every example (needs a ``"target"`` label
            to choose the window; the last panel otherwise).
    """
    from PIL import Image

    if zoom:
        target = list(labels).index("target") if labels and "target" in labels else len(panels) - 1
        panels = with_zoom(panels, target)
    grid = make_grid(panels)
    array = (grid.permute(1, 2, 0).numpy() * 255).round().astype("uint8")
    image = Image.fromarray(array)
    if labels:
        image = _with_header(image, list(labels), [p.shape[-1] + 2 for p in panels])
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def _with_header(image, labels: list[str], widths: list[int]):  # noqa: ANN001, ANN202 - PIL images
    """``image`` below a white band with ``labels`` centred over their columns."""
    from PIL import Image, ImageDraw, ImageFont

    canvas = Image.new("RGB", (image.width, image.height + HEADER_PX), "white")
    canvas.paste(image, (0, HEADER_PX))
    draw = ImageDraw.Draw(canvas)
    x = 0
    for label, width in zip(labels, widths, strict=True):
        for size in range(13, 5, -1):  # the largest font that fits the column
            try:
                font = ImageFont.load_default(size=size)
            except TypeError:  # Pillow < 10.1: one fixed bitmap font
                font = ImageFont.load_default()
                break
            if draw.textlength(label, font=font) <= width - 2:
                break
        text_w = draw.textlength(label, font=font)
        draw.text((x + max(0, (width - text_w) / 2), 4), label, fill="black", font=font)
        x += width
    return canvas


def write_sample_grid(path: Path, task: Any, parts: Any, cfg: Any, model: Any, twin: tuple[str, Any] | None,
                      to_device: Callable[[dict[str, Any]], dict[str, Any]], n: int = 4) -> None:
    """``path``: ``n`` validation examples of ``model`` as labelled panels with a zoomed detail
    (:func:`sample_panels`, :func:`save_grid`); every call draws with the same RNG."""
    from recon.evaluation import iterate_batches
    from recon.train.runtime import step_generator

    batch = to_device(next(iterate_batches(task.build_dataset(cfg, "val"), n, n)))
    device = next((v.device for v in batch.values() if isinstance(v, Tensor)), torch.device("cpu"))
    panels, labels = sample_panels(parts, cfg, batch, model, twin, lambda: step_generator(cfg.seed, 0, 0, device))
    save_grid(panels, path, labels=labels or None, zoom="target" in labels)

