"""An optimizer step undone on the device when a flag says it was bad, without reading the flag.

The discriminator's step must be decided before the generator phase uses D, but reading a
"non-finite" flag there would cost a device-to-host synchronisation. :class:`StepGate`
instead takes the step, then puts the parameters and the optimizer's state tensors back
where a 0-dim bool flag on the device is true (one multi-tensor copy before, an in-place
``torch.where`` per tensor after, so NaN/Inf in the stepped values cannot leak). The one
value that lives on the host, the optimizer's step counter (``state["step"]``, a CPU tensor
for non-capturable Adam), is put back by :meth:`StepGate.settle` once the trainer has read
the flag at the step's single synchronisation.

When the flag is false nothing changes: the restore copies each value onto itself, so a good
step is bit-identical to an ungated one. A parameter whose state did not exist before the
step (Adam's first step) gets zeros back, with its counter at 0: the next step then computes
exactly what a fresh state would.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

_HOST_KEYS = ("step",)


def _state_tensors(optimizer: torch.optim.Optimizer, param: Tensor) -> list[Tensor]:
    state = optimizer.state.get(param, {})
    return [v for k, v in sorted(state.items()) if k not in _HOST_KEYS and isinstance(v, Tensor)
            and v.is_floating_point() and v.device == param.device]


class StepGate:
    """``gate = StepGate(opt, params); gate.step(fn, bad); ...; gate.settle(bad_read)``.

    Args:
        optimizer: the optimizer ``fn`` steps.
        params: the parameters it may update (those with gradients are snapshotted).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, params: list[Tensor]) -> None:
        self.optimizer = optimizer
        self.params = [p for p in params if p.grad is not None]
        self._fresh: list[Tensor] = []

    def step(self, fn: Callable[[], object], bad: Tensor) -> None:
        """Run ``fn`` (the optimizer step); where ``bad`` (0-dim bool, on the params' device) is
        true, restore every parameter and state tensor it changed. No synchronisation."""
        had_state = {id(p) for p in self.params if self.optimizer.state.get(p)}
        tensors = [t.detach() for p in self.params for t in (p, *_state_tensors(self.optimizer, p))]
        saved = [torch.empty_like(t) for t in tensors]
        if tensors:
            torch._foreach_copy_(saved, tensors)  # one multi-tensor copy
        fn()
        self._fresh = [p for p in self.params if id(p) not in had_state]
        with torch.no_grad():
            for live, before in zip(tensors, saved, strict=True):
                torch.where(bad, before, live, out=live)  # in place: the same memory read and written
            for p in self._fresh:  # Adam's state created by this step: zeros when bad
                for t in _state_tensors(self.optimizer, p):
                    t.masked_fill_(bad, 0.0)

    def settle(self, was_bad: bool) -> None:
        """After the flag was read: put the host-side step counters back when it was bad."""
        if not was_bad:
            return
        for p in self.params:
            counter = self.optimizer.state.get(p, {}).get("step")
            if isinstance(counter, Tensor):
                counter.sub_(1)
            elif isinstance(counter, (int, float)):
                self.optimizer.state[p]["step"] = counter - 1
