"""The user's longitudinal data: a CSV manifest of (baseline, follow-up) pairs.

Columns (header row required): ``subject``, ``baseline``, ``followup``, ``years`` and an
optional ``group`` (``healthy``/``CN``/``HC``, ``MCI``, ``AD``; empty = unknown). Paths are
relative to the manifest. Scans are NIfTI volumes or 2D images, read with recon's readers;
a 3D pair becomes its axial slices (along the last axis) that hold brain. Both scans of a row
are divided by the baseline's maximum (the change of intensity between visits is kept).

Refused in one line (exit code 2): a missing column or file, an interval that is not a
number >= 0, a follow-up whose shape differs from its baseline, an unknown group, a subject
listed with two baselines of different grids across rows of the manifest.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recon.api import DataError, RunConfig

GROUP_NAMES = {"healthy": 0, "cn": 0, "hc": 0, "control": 0, "nc": 0, "mci": 1, "ad": 2, "": -1}
REQUIRED = ("subject", "baseline", "followup", "years")


@dataclass(frozen=True)
class Row:
    index: int
    subject: str
    baseline: Path
    followup: Path
    years: float
    group: int


def parse_group(text: str, where: str) -> int:
    key = text.strip().lower()
    if key not in GROUP_NAMES:
        raise DataError(f"{where}: unknown group '{text}'; valid: healthy (CN, HC), MCI, AD, or empty")
    return GROUP_NAMES[key]


def parse_years(text: str, where: str) -> float:
    try:
        years = float(text)
    except ValueError:
        raise DataError(f"{where}: years '{text}' is not a number") from None
    if not np.isfinite(years) or years < 0:
        raise DataError(f"{where}: years must be a number >= 0 (the follow-up comes after the baseline), "
                        f"got {text}")
    return years


def read(cfg: RunConfig) -> list[Row]:
    """The rows of the manifest ``cfg.data.source``, every file checked (cached per process)."""
    path = Path(str(cfg.data.source)).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such manifest (mri_progression reads a CSV of subject, baseline, "
                        f"followup, years[, group], or data.source=simulated)")
    return list(_read(path.resolve(), path.stat().st_mtime_ns, bool(cfg.data.skip_bad)))


@functools.lru_cache(maxsize=4)
def _read(path: Path, mtime: int, skip_bad: bool) -> tuple[Row, ...]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in fields]
        if missing:
            raise DataError(f"{path}: missing column(s) {', '.join(missing)}; a progression manifest has "
                            f"subject, baseline, followup, years[, group]")
        records = [{k.strip().lower(): (v or "").strip() for k, v in rec.items() if k} for rec in reader]
    rows: list[Row] = []
    for n, rec in enumerate(records, start=2):
        where = f"{path.name} line {n}"
        try:
            baseline, followup = path.parent / rec["baseline"], path.parent / rec["followup"]
            for f in (baseline, followup):
                if not rec["baseline"] or not rec["followup"] or not f.exists():
                    raise DataError(f"{where}: no such file {f}")
            row = Row(len(rows), rec["subject"], baseline, followup, parse_years(rec["years"], where),
                      parse_group(rec.get("group", ""), where))
            base, follow = load_pair(row)
            if base.shape != follow.shape:
                raise DataError(f"{where}: follow-up shape {follow.shape} differs from baseline shape {base.shape} "
                                f"(register the follow-up to the baseline first)")
        except DataError:
            if skip_bad:
                continue
            raise
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no usable row")
    return tuple(rows)


@functools.lru_cache(maxsize=256)
def load_pair(row: Row) -> tuple[np.ndarray, np.ndarray]:
    """``(baseline, follow-up)`` arrays ``(H, W)`` or ``(X, Y, Z)``, both divided by the baseline's max."""
    from recon.api import read_any

    arrays = []
    for f in (row.baseline, row.followup):
        volume = read_any(f)
        array = np.asarray(volume.array, dtype=np.float32)
        arrays.append(array.mean(0) if array.shape[0] > 1 else array[0])
    scale = float(arrays[0].max())
    if not np.isfinite(scale) or scale <= 0:
        raise DataError(f"{row.baseline}: the baseline is empty (maximum {scale})")
    return arrays[0] / scale, np.clip(arrays[1] / scale, 0, None)


def slices(row: Row) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Baseline and follow-up 2D slices of a row: the image itself, or the axial slices (last axis)
    of a volume whose baseline holds brain (maximum above 0.1)."""
    b, f = load_pair(row)
    if b.ndim == 2:
        return [b], [f]
    keep = [z for z in range(b.shape[-1]) if b[..., z].max() > 0.1]
    return [np.ascontiguousarray(b[..., z]) for z in keep], [np.ascontiguousarray(f[..., z]) for z in keep]
