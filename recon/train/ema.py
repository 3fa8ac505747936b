"""Exponential moving average of the generator's weights (used for evaluation)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """``ema = decay * ema + (1 - decay) * weights`` after each generator step.

    Buffers (e.g. BatchNorm statistics) are copied. Before ``start`` steps the EMA simply
    tracks the weights.
    """

    def __init__(self, model: nn.Module, decay: float, start: int = 0) -> None:
        self.decay = decay
        self.start = start
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        decay = 0.0 if step < self.start else self.decay
        ema_params = list(self.model.parameters())
        params = [p.detach() for p in model.parameters()]
        if decay == 0.0:
            torch._foreach_copy_(ema_params, params)
        else:
            torch._foreach_lerp_(ema_params, params, 1.0 - decay)
        for ema_buf, buf in zip(self.model.buffers(), model.buffers()):
            ema_buf.copy_(buf)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state)
