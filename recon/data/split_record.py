"""Which data went into which split, recorded so a run directory documents it (splits.json).

The split loaders (:mod:`recon.data.images2d`, :mod:`recon.data.pairs2d`,
:mod:`recon.data.volumes3d`) call :func:`record_split` once per source and split rule; the
trainer calls :func:`write_splits` after building its datasets. The file lists, per
source: the rule (``slab`` for one volume, ``subject`` otherwise, ``none`` for evaluation
data), the seed, the axis, the files or slice ranges of ``train``/``val``/``test``, the
files left out by ``data.skip_bad`` and the per-volume intensity normalisation.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

_RECORDS: dict[str, dict[str, Any]] = {}
_LOCK = threading.Lock()


def record_split(key: str, record: dict[str, Any]) -> None:
    """Remember ``record`` (JSON-serialisable) under ``key`` (one per source and rule)."""
    with _LOCK:
        _RECORDS[key] = record


def recorded_splits(source: str | None = None) -> list[dict[str, Any]]:
    """The records made in this process, those of ``source`` only when given."""
    with _LOCK:
        records = list(_RECORDS.values())
    return [r for r in records if source is None or r.get("source") == source]


def write_splits(run_dir: str | Path, source: str | None = None) -> Path | None:
    """Write ``run_dir/splits.json`` with the records of ``source`` (``cfg.data.source``;
    every record when ``None``). Returns the path, or ``None`` when nothing was recorded
    (a task that does not use these loaders)."""
    records = recorded_splits(source)
    if not records:
        return None
    path = Path(run_dir) / "splits.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"format": "recon-splits", "version": 1, "sources": records}, indent=2) + "\n")
    tmp.replace(path)
    return path


def load_splits(run_dir: str | Path) -> dict[str, Any]:
    """Read ``run_dir/splits.json`` (an empty record set when absent)."""
    path = Path(run_dir) / "splits.json"
    return json.loads(path.read_text()) if path.is_file() else {"sources": []}
