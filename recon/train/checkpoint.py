"""Checkpoints: atomic writes, safe loads (``weights_only=True``), fallback to the previous one.

Layout of a checkpoint (a plain dict of tensors and Python primitives only)::

    format: "recon-checkpoint", format_version, recon_version, task, config (dict), step,
    nets: {generator, discriminator?, ema?}, optim: {...}, scalers: {...}, sched: {...},
    augment?, g_reg?, rng, trainer_state (a task keeps no state of its own)

``save_checkpoint`` writes ``last.pt.tmp`` and fsyncs it; only then does the current
``last.pt`` become ``prev.pt`` (a hard link, so ``last.pt`` never disappears) and the
temporary file is renamed over ``last.pt``. A crash or a full disk at any moment leaves at
least one complete checkpoint. ``load_checkpoint`` refuses pickled code, files that are not
ours and checkpoints of another task; ``load_latest`` falls back to ``prev.pt`` (with a
warning) when ``last.pt`` is missing, truncated or corrupt.
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
from pathlib import Path
from typing import Any, Callable

import torch

from recon.errors import CheckpointError
from recon.train.faults import OutputWriteError, is_storage_error, storage_message

FORMAT = "recon-checkpoint"
FORMAT_VERSION = 1
LAST = "last.pt"
PREVIOUS = "prev.pt"
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")  # torch names the blocked callable "GLOBAL module.name"


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


def _keep_previous(path: Path) -> None:
    """Make ``prev.pt`` a copy of ``path`` without ever removing ``path``."""
    prev = path.with_name(PREVIOUS)
    staged = path.with_name(PREVIOUS + ".tmp")
    staged.unlink(missing_ok=True)
    try:
        os.link(path, staged)  # same inode: no copy, and last.pt stays in place
    except OSError:  # a filesystem without hard links: a short window with prev.pt only
        os.replace(path, prev)
        return
    os.replace(staged, prev)


def save_checkpoint(state: dict[str, Any], path: Path, keep_previous: bool = True) -> Path:
    """Write ``state`` to ``path`` atomically; the old file becomes ``prev.pt`` when asked.

    Raises:
        OutputWriteError: the disk is full, a file-size limit was hit or the mount is
            read-only; the checkpoint already at ``path`` (if any) is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_previous and path.exists():
            _keep_previous(path)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if is_storage_error(exc):
            kept = f"the previous checkpoint {path} is intact" if path.is_file() else "no earlier checkpoint"
            raise OutputWriteError(f"{storage_message(exc, tmp)}; {kept}; free space and resume") from None
        raise
    _fsync_dir(path.parent)
    return path


def _refusal(path: Path, exc: pickle.UnpicklingError) -> CheckpointError:
    """A clear message for what ``weights_only=True`` refused."""
    text = str(exc)
    match = _GLOBAL.search(text)
    if match:
        name = match.group(1)
        return CheckpointError(
            f"{path}: refused to load: it references Python code ({name}); recon loads checkpoints "
            f"with weights_only=True and never runs code from a file")
    lines = [line.strip() for line in text.splitlines() if "error" in line.lower() or "unsupported" in line.lower()]
    detail = lines[-1][:120] if lines else type(exc).__name__
    return CheckpointError(f"{path}: refused to load: not a tensors-only checkpoint "
                           f"(weights_only=True cannot read it: {detail})")


def _is_weights(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())


def _check_layout(path: Path, state: Any) -> None:
    """Refuse a dict that claims to be ours but lacks what eval/predict/resume read."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a recon checkpoint (no '{FORMAT}' header)")
    version = state.get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer recon (format {version!r}); upgrade recon to read it")
    problems = []
    if not isinstance(state.get("task"), str) or not state.get("task"):
        problems.append("task")
    if not isinstance(state.get("step"), int) or isinstance(state.get("step"), bool) or state["step"] < 0:
        problems.append("step")
    if not isinstance(state.get("config"), dict):
        problems.append("config")
    nets = state.get("nets")
    if not isinstance(nets, dict) or "generator" not in nets:
        problems.append("nets.generator")
    else:
        problems += [f"nets.{name}" for name, weights in nets.items() if not _is_weights(weights)]
    if problems:
        raise CheckpointError(f"{path}: damaged recon checkpoint (missing or invalid: {', '.join(problems)})")


def load_checkpoint(path: str | Path, task: str | None = None) -> dict[str, Any]:
    """Load a recon checkpoint safely.

    Raises:
        CheckpointError: missing, truncated/corrupt, holding pickled objects that are not
            tensors (refused by ``weights_only=True``), not a recon checkpoint, missing the
            task/step/config/generator weights, or saved by another task than ``task``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's pickle-protocol chatter on foreign files
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _refusal(path, exc) from None
    except MemoryError:
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint (implausible sizes)") from None
    except Exception as exc:  # noqa: BLE001 - zip/EOF/runtime errors of a damaged file
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint ({type(exc).__name__})") from None
    _check_layout(path, state)
    if task is not None and state["task"] != task:
        raise CheckpointError(f"{path}: checkpoint of task '{state['task']}', not '{task}' "
                              f"(use --task {state['task']}, or another --out)")
    return state


def load_latest(directory: Path, task: str | None = None,
                on_fallback: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``last.pt`` of ``directory``, or ``prev.pt`` when ``last.pt`` is missing or damaged.

    ``on_fallback(message)`` reports the fallback (a ``UserWarning`` by default). A
    refused (unsafe) file or one of another task never falls back: that is not damage.
    """
    last, prev = directory / LAST, directory / PREVIOUS
    try:
        return load_checkpoint(last, task)
    except CheckpointError as exc:
        if not prev.is_file() or "refused" in str(exc) or "of task" in str(exc) or "newer recon" in str(exc):
            raise
        state = load_checkpoint(prev, task)
        message = f"{exc}; using the previous checkpoint {prev} (step {state['step']})"
        if on_fallback is None:
            warnings.warn(message, stacklevel=2)
        else:
            on_fallback(message)
        return state


def weights_finite(state: dict[str, Any]) -> bool:
    """True when every floating-point tensor under ``state["nets"]`` is finite."""
    for net in state.get("nets", {}).values():
        for value in net.values():
            if isinstance(value, torch.Tensor) and value.is_floating_point() and not torch.isfinite(value).all():
                return False
    return True
