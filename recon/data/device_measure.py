"""Sample makers that can leave the measurement to the training device (``data.simulate_on``).

A sample maker ``(clean (C, *spatial), rng) -> sample`` (:data:`recon.data.patches.Transform`)
draws the operator's parameters and measures, per sample, on the CPU. A :class:`SplitSample` is
such a maker that also comes in two halves:

* ``draw(clean, rng) -> sample``: the same draws from ``rng``, in the same order, but no
  measurement: the clean target and the parameters (``"params"``, a mapping of tensors, and any
  per-sample tensor the task keeps in its batches, e.g. a k-space mask);
* ``measure(batch) -> batch``: the measurement of a whole collated batch, on whatever device its
  tensors are (``batch["target"]`` ``(N, C, *spatial)``), returning the keys the full maker
  gives (``"input"`` and the task's own), in its order.

With ``data.simulate_on=device`` the training DataLoader runs ``draw`` (in its workers) and the
trainer applies ``measure`` right after moving the batch to the training device
(:mod:`recon.train.device_simulation`). ``make`` — what ``__call__`` runs — is the CPU path,
unchanged: evaluation splits always use it (their measurements are fixed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor

__all__ = ["BatchMeasure", "SplitSample"]

#: ``batch (tensors on the training device) -> batch with the measurement``
BatchMeasure = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class SplitSample:
    """A sample maker with a batched measurement (module docstring).

    Attributes:
        make: ``(clean, rng) -> sample``, the whole sample on the CPU (what ``__call__`` runs).
        draw: ``(clean, rng) -> sample`` with the clean ``"target"`` and the parameters drawn
            exactly as ``make`` draws them, without the measurement.
        measure: ``batch -> batch``: the collated output of ``draw`` (on the device) to the
            keys of a collated batch of ``make``; must draw no random numbers.
        refusal: why the measurement cannot run batched (``""``: it can); a run asking for
            ``data.simulate_on=device`` is refused with it.
    """

    make: Callable[[Tensor, torch.Generator], dict[str, Tensor]]
    draw: Callable[[Tensor, torch.Generator], dict[str, Any]]
    measure: BatchMeasure
    refusal: str = ""

    def __call__(self, clean: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
        """``make(clean, rng)``: the CPU path."""
        return self.make(clean, rng)
