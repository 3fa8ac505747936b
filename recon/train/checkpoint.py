"""Checkpoints: atomic writes, safe loads (``weights_only=True``), fallback to the previous one.

Layout of a checkpoint (a plain dict of tensors and Python primitives only)::

    format: "recon-checkpoint", format_version, recon_version, task, config (dict), step,
    nets: {generator, discriminator?, ema?}, optim: {...}, scalers: {...}, sched: {...},
    augment?, g_reg?, task_state, rng, trainer_state

``save_checkpoint`` writes ``name.tmp``, fsyncs it, moves the current file to ``prev.pt``
and renames the temporary file into place, so a crash at any moment leaves one complete
checkpoint on disk. ``load_checkpoint`` refuses pickled code and checkpoints that are not
ours; ``load_latest`` falls back to ``prev.pt`` (with a warning) when ``last.pt`` is
truncated.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import torch

from recon.errors import CheckpointError

FORMAT = "recon-checkpoint"
FORMAT_VERSION = 1
LAST = "last.pt"
PREVIOUS = "prev.pt"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_checkpoint(state: dict[str, Any], path: Path, keep_previous: bool = True) -> Path:
    """Write ``state`` to ``path`` atomically; the old file becomes ``prev.pt`` when asked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if keep_previous and path.exists():
        os.replace(path, path.with_name(PREVIOUS))
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return path


def load_checkpoint(path: str | Path, task: str | None = None) -> dict[str, Any]:
    """Load a recon checkpoint safely.

    Raises:
        CheckpointError: missing, truncated/corrupt, holding pickled objects that are not
            tensors (refused by ``weights_only=True``), not a recon checkpoint, or saved by
            another task than ``task``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = str(exc).split("\n")[0].replace("Weights only load failed. ", "")[:200]
        raise CheckpointError(
            f"{path}: refused to load: it contains pickled Python objects that are not tensors "
            f"(weights_only=True); only load checkpoints you trust with other tools ({detail})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - zip/EOF/runtime errors of a damaged file
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a recon checkpoint (no '{FORMAT}' header)")
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer recon (format {state['format_version']})")
    if task is not None and state.get("task") != task:
        raise CheckpointError(f"{path}: checkpoint of task '{state.get('task')}', not '{task}'")
    return state


def load_latest(directory: Path, task: str | None = None) -> dict[str, Any]:
    """``last.pt`` of ``directory``, or ``prev.pt`` with a warning when ``last.pt`` is damaged."""
    last, prev = directory / LAST, directory / PREVIOUS
    try:
        return load_checkpoint(last, task)
    except CheckpointError as exc:
        if not prev.is_file() or "refused" in str(exc) or "of task" in str(exc):
            raise
        warnings.warn(f"{exc}; falling back to the previous checkpoint {prev}", stacklevel=2)
        return load_checkpoint(prev, task)
