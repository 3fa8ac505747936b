"""Rebuild a trained generator from a checkpoint (for eval, predict and generate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from recon.errors import CheckpointError


def load_run(checkpoint: str | Path, task: Any | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """Load a checkpoint safely and rebuild its task and config.

    Returns:
        ``(task, cfg, state)``. ``task`` is looked up from the checkpoint when not given; a
        checkpoint of another task than ``task`` is refused.
    """
    from recon.config import config_from_dict
    from recon.plugins import get_task
    from recon.train.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint, task.name if task is not None else None)
    if task is None:
        task = get_task(str(state.get("task")))
    try:
        cfg = config_from_dict(task, state["config"])
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"{checkpoint}: its saved config does not fit task {task.name} ({exc})") from None
    return task, cfg, state


def load_generator(checkpoint: str | Path, task: Any | None = None,
                   device: torch.device | str = "cpu") -> tuple[nn.Module, Any]:
    """The checkpoint's generator (its EMA weights when present) in eval mode, and its config."""
    task, cfg, state = load_run(checkpoint, task)
    generator = task.build_generator(cfg)
    weights = state["nets"].get("ema") or state["nets"]["generator"]
    try:
        generator.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointError(f"{checkpoint}: weights do not match the task's generator ({str(exc)[:200]})") from None
    return generator.to(device).eval(), cfg


def comparison_name(cfg: Any) -> str:
    """How a compared checkpoint is labelled in eval.json (``non-adversarial`` when it is)."""
    return "non-adversarial" if cfg.loss.adversarial == 0 else f"compare ({cfg.loss.gan_type})"
