"""Rebuild a trained generator from a checkpoint (for eval, predict and generate)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from recon.errors import CheckpointError
from recon.task import Parts


@dataclass
class LoadedModel:
    """A checkpoint's task, resolved config and parts (:class:`recon.task.Parts`, whose
    ``generator`` holds the checkpoint's weights)."""

    task: Any
    cfg: Any
    parts: Parts

    @property
    def generator(self) -> nn.Module:
        return self.parts.generator


def _task_name(task: Any | str | None) -> str | None:
    return task if task is None or isinstance(task, str) else task.name


def load_run(checkpoint: str | Path, task: Any | str | None = None,
             role: str | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """Load a checkpoint safely and rebuild its task and config.

    Args:
        checkpoint: the ``.pt`` file.
        task: a task (or task name) the checkpoint must belong to; ``None`` accepts any.
        role: the option that named a checkpoint compared with ``task``'s model (``--compare``,
            ``eval.compare_checkpoint``): one of another task is refused in those words
            (:func:`check_comparable`).

    Returns:
        ``(task, cfg, state)``: a fresh task instance holding the checkpoint's task state
        (so the caller's own task object is never modified), its config, the raw state.
    """
    from recon.config import config_from_dict
    from recon.plugins import get_task
    from recon.train.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint, None if role else _task_name(task))
    if role and task is not None:
        _refuse_other_task(state, checkpoint, task, role)
    fresh = get_task(str(state.get("task")))
    try:
        cfg = config_from_dict(fresh, state["config"])
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"{checkpoint}: its saved config does not fit task {fresh.name} ({exc})") from None
    return fresh, cfg, state


def load_model(checkpoint: str | Path, task: Any | str | None = None,
               device: torch.device | str = "cpu", role: str | None = None) -> LoadedModel:
    """The checkpoint's generator (its EMA weights when present) in eval mode, with its task,
    config and the rest of its parts. Torch's global RNG is left as it was (loading a compared
    model in the middle of a run does not change the run's random draws)."""
    from recon.train.networks import setup_parts
    from recon.train.runtime import capture_rng, restore_rng

    loaded_task, cfg, state = load_run(checkpoint, task, role)
    rng = capture_rng()
    try:  # model.g_network's registered network, else the task's; nothing fitted: the weights bring it
        parts = setup_parts(loaded_task, cfg, None)
    finally:
        restore_rng(rng)
    generator = parts.generator
    weights = state["nets"].get("ema") or state["nets"]["generator"]
    try:
        generator.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointError(f"{checkpoint}: weights do not match the task's generator ({str(exc)[:200]})") from None
    parts.generator = generator.to(device).eval()
    return LoadedModel(loaded_task, cfg, parts)


def load_generator(checkpoint: str | Path, task: Any | str | None = None,
                   device: torch.device | str = "cpu",
                   role: str | None = "compared checkpoint") -> tuple[nn.Module, Any]:
    """``(generator, cfg)`` of a checkpoint compared with ``task``'s model (see :func:`load_model`;
    ``role`` names it when it is of another task)."""
    model = load_model(checkpoint, task, device, role)
    return model.generator, model.cfg


def comparison_name(cfg: Any, label: str = "") -> str:
    """How a compared checkpoint (of config ``cfg``) is labelled in eval.json and the samples:
    ``label`` when given (``eval.compare_label``, e.g. ``from scratch`` beside a fine-tuned run),
    else ``non-adversarial`` when it is, else ``compare (<gan_type>)``."""
    if label:
        return label
    return "non-adversarial" if cfg.loss.adversarial == 0 else f"compare ({cfg.loss.gan_type})"


def _dims(task_name: str) -> int | None:
    """The spatial dimensions of a registered task's images (2 unless it declares ``spatial_dims``)."""
    from recon.errors import UsageError
    from recon.plugins import get_task

    try:
        return int(getattr(get_task(task_name), "spatial_dims", 2))
    except UsageError:  # a task not installed here
        return None


def _refuse_other_task(state: dict[str, Any], checkpoint: str | Path, task: Any | str, role: str) -> None:
    other, name = str(state.get("task")), str(_task_name(task))
    if other == name:
        return
    mine, theirs = _dims(name), _dims(other)
    what = ""
    if mine is not None and theirs is not None and mine != theirs:
        what = f" (a {theirs}D model; the evaluated model is {mine}D)"
    raise CheckpointError(f"{role} {checkpoint}: a checkpoint of task '{other}', not '{name}'{what}; "
                          "compare two checkpoints of the same task")


def check_comparable(checkpoint: str | Path, task: Any | str, role: str) -> None:
    """Refuse, before any work, a checkpoint to report beside ``task``'s model that is of
    another task (a 2D and a 3D model, a paired and an unconditional one): a
    :class:`~recon.errors.CheckpointError` naming ``role``, the option that named it."""
    from recon.train.checkpoint import load_checkpoint

    try:
        state = load_checkpoint(checkpoint)
    except CheckpointError as exc:
        raise CheckpointError(f"{role}: {exc}") from None
    _refuse_other_task(state, checkpoint, task, role)
