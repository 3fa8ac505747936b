"""Pixel-wise reconstruction losses and the weighted content loss most tasks use."""

from __future__ import annotations

from typing import Callable

import torch.nn.functional as F
from torch import Tensor


def l1_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean absolute error over all elements."""
    return F.l1_loss(pred, target)


def l2_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean squared error over all elements."""
    return F.mse_loss(pred, target)


def content_loss(
    pred: Tensor, target: Tensor, *, l1: float = 1.0, l2: float = 0.0, perceptual: float = 0.0,
    perceptual_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
) -> dict[str, Tensor]:
    """Weighted reconstruction terms, each already multiplied by its weight.

    Args:
        pred, target: ``(N, C, H, W)`` images in the task's range.
        l1, l2, perceptual: weights; a zero weight skips the term.
        perceptual_fn: ``(pred, target) -> (N,)`` distances (e.g. LPIPS), needed when
            ``perceptual > 0``.

    Returns:
        ``{"l1": ..., "l2": ..., "perceptual": ...}`` for the non-zero weights.
    """
    terms: dict[str, Tensor] = {}
    if l1:
        terms["l1"] = l1 * l1_loss(pred.float(), target.float())
    if l2:
        terms["l2"] = l2 * l2_loss(pred.float(), target.float())
    if perceptual:
        if perceptual_fn is None:
            raise ValueError("loss.perceptual > 0 needs a perceptual network")
        terms["perceptual"] = perceptual * perceptual_fn(pred, target).mean()
    return terms
