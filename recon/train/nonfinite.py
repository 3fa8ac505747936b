"""The NaN/Inf policy (``trainer.nan_policy``): what the trainer does after a bad step.

A step is bad when a loss or a gradient is not finite (the phases then skip the optimizer
step of that network). Policies:

- ``rollback`` (default): reload the last good checkpoint (``prev.pt`` if ``last.pt`` is
  damaged) and halve the learning rate; with no checkpoint yet, fall back to ``skip``.
- ``skip``: drop the step and halve the learning rate. The optimizers already skipped the
  non-finite gradients; the buffers the forward passes updated (BatchNorm statistics,
  spectral-norm vectors, ADA's ``p``, EMA buffers) are restored from a copy taken before
  the step, since one NaN batch would otherwise poison them for the rest of the run.
- ``stop``: raise :class:`TrainingDiverged` naming the step and the bad values.

Recoveries are counted over the run (saved in checkpoints); after
``trainer.max_rollbacks`` of them (default 3) the next bad step stops the run. Every
reduction multiplies the learning rate in effect at the fault by 0.5 and scales the
schedulers' ``base_lrs`` the same way, so it survives ``LambdaLR``/cosine recomputation
and resume.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import torch

from recon.train import checkpoint as ckpt
from recon.train.faults import TrainingDiverged

LR_FACTOR = 0.5


def describe(logs: dict[str, Any], step: int) -> str:
    """``non-finite g_loss=nan, l1=nan at step 4`` (or ``non-finite gradients at step 4``)."""
    bad = [(k, v) for k, v in logs.items() if isinstance(v, float) and not math.isfinite(v)]
    bad.sort(key=lambda item: (item[0] not in ("g_loss", "d_loss"), item[0] != "g_loss"))  # totals first
    if bad:
        return "non-finite " + ", ".join(f"{k}={v}" for k, v in bad) + f" at step {step}"
    return f"non-finite gradients at step {step}"


def _pairs(trainer: Any) -> list[tuple[Any, Any]]:
    return [(opt, sched) for opt, sched in ((trainer.opt_g, trainer.sched_g), (trainer.opt_d, trainer.sched_d))
            if opt is not None]


def lr_snapshot(trainer: Any) -> list[list[float]]:
    """The learning rate of every parameter group, per optimizer."""
    return [[group["lr"] for group in opt.param_groups] for opt, _ in _pairs(trainer)]


def reduce_lr(trainer: Any, before: list[list[float]], factor: float = LR_FACTOR) -> None:
    """Set each group's lr to ``factor`` x its value ``before`` (the fault), schedulers included."""
    for (opt, sched), lrs in zip(_pairs(trainer), before, strict=True):
        for i, (group, lr) in enumerate(zip(opt.param_groups, lrs, strict=True)):
            target = lr * factor
            ratio = target / group["lr"] if group["lr"] else factor
            group["lr"] = target
            if sched is not None and i < len(sched.base_lrs):
                sched.base_lrs[i] *= ratio


def snapshot_buffers(trainer: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(buffer, copy)`` for every buffer of the trained modules (small: statistics, not weights)."""
    ema = trainer.ema.model if trainer.ema is not None else None
    modules = (trainer.generator, trainer.discriminator, ema, trainer.augment, trainer.g_regularizer)
    return [(buf, buf.detach().clone()) for module in modules if module is not None for buf in module.buffers()]


@torch.no_grad()
def restore_buffers(snapshot: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    for live, saved in snapshot:
        live.copy_(saved)


def _has_checkpoint(trainer: Any) -> bool:
    directory = trainer.run_dir / "checkpoints"
    return (directory / ckpt.LAST).is_file() or (directory / ckpt.PREVIOUS).is_file()


def recover(trainer: Any, logs: dict[str, Any], progress: Any,
            buffers: list[tuple[torch.Tensor, torch.Tensor]] | None = None) -> Iterator | None:
    """Apply the policy after a bad step; returns a fresh batch iterator after a rollback.

    ``buffers`` is :func:`snapshot_buffers` taken before the step (needed by ``skip``).

    Raises:
        TrainingDiverged: ``stop``, or more than ``trainer.max_rollbacks`` recoveries.
    """
    t = trainer.cfg.trainer
    where = describe(logs, trainer.step + 1)  # numbered as in metrics.jsonl
    saved = getattr(trainer, "_saved_step", None)
    kept = f"; the last checkpoint (step {saved}) is intact" if saved is not None and _has_checkpoint(trainer) else ""
    if t.nan_policy == "stop":
        raise TrainingDiverged(f"{where}; stopped (trainer.nan_policy=stop){kept}")
    trainer.rollbacks += 1
    if trainer.rollbacks > t.max_rollbacks:
        raise TrainingDiverged(f"{where}; gave up after {t.max_rollbacks} recoveries (trainer.max_rollbacks){kept}; "
                               "lower trainer.lr_g / trainer.lr_d or check the data")
    before = lr_snapshot(trainer)
    if t.nan_policy == "rollback" and _has_checkpoint(trainer):
        count = trainer.rollbacks
        state = ckpt.load_latest(trainer.run_dir / "checkpoints", trainer.task.name, on_fallback=progress.write)
        trainer.load_state(state)
        trainer.rollbacks = count
        reduce_lr(trainer, before)
        progress.write(f"recon: warning: {where}; rolled back to step {trainer.step} "
                       f"({count}/{t.max_rollbacks}), learning rate halved")
        return trainer.batch_iterator()
    if buffers is not None:
        restore_buffers(buffers)
    trainer.step += 1  # skip: the optimizers did not step on non-finite gradients
    reduce_lr(trainer, before)
    progress.write(f"recon: warning: {where}; step skipped ({trainer.rollbacks}/{t.max_rollbacks}), "
                   "learning rate halved")
    return None
