"""The learning-rate schedules of ``trainer.lr_schedule``."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["lr_scheduler"]


def lr_scheduler(trainer_cfg: Any, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    """``trainer.lr_schedule``: ``cosine`` to 0 over ``max_steps``, ``step`` (x0.1 at half), else constant."""
    t = trainer_cfg
    if t.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, t.max_steps), eta_min=0.0)
    if t.lr_schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, t.max_steps // 2), gamma=0.1)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
