"""Decide the train/val/test split of a loaded source (shared by the 2D, paired and 3D loaders).

- ``holdout=False``: every volume is evaluation data (``recon eval --data``), rule ``none``.
- One 3D volume: by slab along the slice axis, within its foreground extent, with ``gap``
  slices between splits (rule ``slab``).
- Otherwise by subject with a fixed seed (rule ``subject``); volumes of one subject (rows of
  a manifest sharing a ``subject``) stay together. At least 3 subjects are needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recon.data.splits import SPLITS, slab_split, subject_split
from recon.errors import DataError


@dataclass(frozen=True)
class SplitPlan:
    """Volume ids per split, and for the ``slab`` rule the slice range per split."""

    method: str
    volumes: dict[str, list[int]]
    slabs: dict[str, range] = field(default_factory=dict)

    def record(self, source: str, items: list[str], extra: dict[str, Any]) -> dict[str, Any]:
        """The JSON record of this plan for ``splits.json``."""
        out: dict[str, Any] = {"source": source, "method": self.method, **extra}
        out["splits"] = {s: {"items": [items[i] for i in self.volumes[s]]} for s in SPLITS}
        for s, r in self.slabs.items():
            out["splits"][s]["slices"] = [r.start, r.stop]  # half-open range along the axis
        return out


def plan_splits(source: str, subjects: list[str], extent: tuple[int, int] | None, *, val_fraction: float,
                test_fraction: float, gap: int, seed: int, holdout: bool) -> SplitPlan:
    """The split of ``len(subjects)`` volumes.

    Args:
        source: named in error messages.
        subjects: the subject of each volume.
        extent: ``(first, last)`` foreground slice of the volume when there is exactly one 3D
            volume (the slab rule), else ``None``.
    """
    n = len(subjects)
    if not holdout:
        return SplitPlan("none", {s: list(range(n)) for s in SPLITS})
    if extent is not None:
        first, last = extent
        ranges = slab_split(last - first + 1, val_fraction, test_fraction, gap)
        slabs = {s: range(first + r.start, first + r.stop) for s, r in ranges.items()}
        return SplitPlan("slab", {s: [0] for s in SPLITS}, slabs)
    unique = list(dict.fromkeys(subjects))
    if len(unique) < 3:
        raise DataError(f"{source}: need one 3D volume or at least 3 files to make train/val/test splits "
                        f"(got {len(unique)}); for evaluation only use `recon eval --data`")
    chosen = subject_split(len(unique), val_fraction, test_fraction, seed)
    by_subject = {name: [i for i, s in enumerate(subjects) if s == name] for name in unique}
    return SplitPlan("subject", {s: sorted(i for k in chosen[s] for i in by_subject[unique[k]]) for s in SPLITS})
