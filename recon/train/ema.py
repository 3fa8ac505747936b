"""Exponential moving average of the generator's weights (used for evaluation)."""

from __future__ import annotations

import copy

import torch
from torch import nn


def ramped_decay(decay: float, steps_since_start: int) -> float:
    """The decay used ``steps_since_start`` updates after the EMA started.

    ``min(decay, (1 + t) / (10 + t))``: the averaging window grows with the run instead of
    reaching back to the random initial weights (TensorFlow's ``num_updates`` rule; the same
    purpose as StyleGAN2-ADA's ``ema_rampup``). Without it a short run evaluates a blur of
    its first steps: with ``decay=0.999`` after 1,000 steps the EMA still weighs the first
    few hundred updates heavily.
    """
    return min(decay, (1.0 + steps_since_start) / (10.0 + steps_since_start))


class EMA:
    """``ema = d * ema + (1 - d) * weights`` after each generator step, ``d`` ramped up to
    ``decay`` (:func:`ramped_decay`).

    Buffers (e.g. BatchNorm statistics) are copied. Before ``start`` steps the EMA simply
    tracks the weights.
    """

    def __init__(self, model: nn.Module, decay: float, start: int = 0) -> None:
        self.decay = decay
        self.start = start
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        decay = 0.0 if step < self.start else ramped_decay(self.decay, step - self.start)
        ema_params: list[torch.Tensor] = list(self.model.parameters())
        params = [p.detach() for p in model.parameters()]
        if decay == 0.0:
            torch._foreach_copy_(ema_params, params)
        else:
            torch._foreach_lerp_(ema_params, params, 1.0 - decay)
        for ema_buf, buf in zip(self.model.buffers(), model.buffers(), strict=True):
            ema_buf.copy_(buf)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state)
