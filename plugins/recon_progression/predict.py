"""``recon predict`` for ``mri_progression``: follow-ups of a baseline scan at given intervals.

``recon predict --checkpoint C baseline.nii.gz --years 3 [--group AD] -o followup.nii.gz``
writes one follow-up; ``--years 0,1,2,5`` writes a series ``followup_0y.nii.gz``,
``followup_1y.nii.gz``... beside ``-o`` and a montage ``followup_montage.png`` (the middle
slice at each interval, above its change from the baseline). A 2D image is one slice; a
volume is predicted slice by slice along its last axis (axial for RAS volumes). Intensities
are divided by the baseline's maximum for the model and multiplied back on output; the
output keeps the input's format and geometry (NIfTI affine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from recon.api import RunConfig, UsageError, output_kind, read_any, write_like
from recon_progression.data import one_hot
from recon_progression.manifest import parse_group


def _slices(array: np.ndarray) -> np.ndarray:
    """``(C, H, W)`` or ``(C, X, Y, Z)`` -> ``(S, 1, H, W)`` gray slices (the last axis for volumes)."""
    gray = array.mean(0) if array.shape[0] > 1 else array[0]
    if gray.ndim == 2:
        return gray[None, None]
    return np.moveaxis(gray, -1, 0)[:, None]


def _unslice(slices: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_slices` for a one-channel output ``(1, ...)`` shaped like the input."""
    if like.ndim == 3:
        return slices[0]
    return np.moveaxis(slices[:, 0], 0, -1)[None]


@torch.no_grad()
def run(parts: Any, slices: np.ndarray, years: float, group: int, device: torch.device,
        batch_size: int = 8) -> np.ndarray:
    """``(S, 1, H, W)`` baseline slices in [0, 1] -> the predicted follow-up slices at ``years``."""
    generator = parts.generator.eval()
    out = []
    for start in range(0, slices.shape[0], batch_size):
        chunk = torch.from_numpy(np.ascontiguousarray(slices[start:start + batch_size], dtype=np.float32)).to(device)
        n = chunk.shape[0]
        batch = {"input": chunk, "years": torch.full((n, 1), float(years), device=device),
                 "group": one_hot(group).to(device).expand(n, -1)}
        images = parts.generate(generator, batch)
        images = images[0] if isinstance(images, tuple) else images
        out.append(parts.postprocess(images).float().cpu().numpy())
    return np.concatenate(out)


def series_path(output: Path, years: float) -> Path:
    """``followup.nii.gz`` + 2.5 -> ``followup_2.5y.nii.gz``."""
    name = output.name
    suffix = ".nii.gz" if name.endswith(".nii.gz") else output.suffix
    stem = name[: len(name) - len(suffix)] if suffix else name
    return output.with_name(f"{stem}_{years:g}y{suffix}")


def montage(path: Path, baseline: np.ndarray, predictions: list[np.ndarray], years: Sequence[float]) -> Path:
    """A PNG: the baseline then each follow-up (top), their change from the baseline (bottom,
    grey = none, x2.5), captioned. Slices ``(H, W)`` in [0, 1], rotated 90 degrees for display
    (the first axis left-right, as radiological viewers show RAS axial slices)."""
    from PIL import Image

    def show(x: np.ndarray) -> np.ndarray:
        return np.rot90(np.clip(x, 0, 1))

    top = [show(baseline)] + [show(p) for p in predictions]
    bottom = [np.full_like(top[0], 0.5)] + [show(0.5 + 2.5 * (p - baseline)) for p in predictions]
    pad = np.ones((top[0].shape[0], 2))
    rows = [np.concatenate(sum(([im, pad] for im in row), [])[:-1], axis=1) for row in (top, bottom)]
    grid = np.concatenate([rows[0], np.ones((2, rows[0].shape[1])), rows[1]], axis=0)
    image = Image.fromarray((grid * 255).round().astype(np.uint8))
    scale = max(1, 256 // max(1, top[0].shape[0]))
    image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST).convert("RGB")
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    step = (top[0].shape[1] + 2) * scale
    for k, text in enumerate(["baseline"] + [f"+{t:g} y" for t in years]):
        draw.text((k * step + 4, 3), text, fill=(255, 215, 0))
    draw.text((4, (top[0].shape[0] + 2) * scale + 3), "change x2.5", fill=(255, 215, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def predict_followups(cfg: RunConfig, parts: Any, input_path: Path, output_path: Path, device: torch.device,
                      years: Sequence[float] | None, group: str | None, force: bool = False) -> Path:
    """Write the follow-up(s) of ``input_path``; returns the file written (the montage for a series).
    Existing series files are replaced only with ``force`` (``recon predict --force``)."""
    if not years:
        raise UsageError("mri_progression: give the interval with --years (e.g. --years 3, or --years 0,1,2,5)")
    for t in years:
        if not np.isfinite(t) or t < 0:
            raise UsageError(f"--years: intervals must be numbers >= 0, got {t:g}")
    label = parse_group(group or "", "--group")
    volume = read_any(input_path)
    output_kind(output_path, volume)  # refuse an impossible output before any work
    scale = float(volume.array.max())
    if not np.isfinite(scale) or scale <= 0:
        raise UsageError(f"{input_path}: the baseline is empty (maximum {scale})")
    slices = _slices(np.asarray(volume.array, dtype=np.float32) / scale)
    note = f"recon predict: mri_progression ({cfg.preset} preset)"
    batch_size = max(1, int(getattr(cfg.eval, "batch_size", 8)))
    stem = series_path(output_path, 0).name.split("_0y")[0]
    montage_path = output_path.with_name(f"{stem}_montage.png")
    if len(years) > 1 and not force:
        for path in [series_path(output_path, t) for t in years] + [montage_path]:
            if path.exists():
                raise UsageError(f"{path}: already exists; pass --force to replace it")
    outputs = [run(parts, slices, t, label, device, batch_size) for t in years]
    if len(years) == 1:
        return write_like(output_path, _unslice(outputs[0], volume.array) * scale, volume.affine, volume, note)
    for t, out in zip(years, outputs, strict=True):
        written = write_like(series_path(output_path, t), _unslice(out, volume.array) * scale, volume.affine,
                             volume, f"{note}, +{t:g} years")
        print(f"wrote {written}")
    middle = slices.shape[0] // 2
    return montage(montage_path, slices[middle, 0],
                   [o[middle, 0] for o in outputs], years)
