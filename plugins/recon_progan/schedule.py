"""The growth schedule: which resolution trains, and the fade-in weight alpha, at a global step.

A pure function of the step (no state), so a run resumed at any step, mid-fade included,
trains exactly as an uninterrupted one: the trainer restores the step and
:class:`~recon_progan.objective.ProGANObjective` sets the networks' stage from it.

With ``P = model.phase_steps`` and levels ``0 .. L - 1`` (resolution ``start * 2**level``):

* steps ``[0, P)``: level 0 (e.g. 4 x 4) alone, ``alpha = 1``;
* for each level ``k >= 1``: a fade of ``P`` steps in which ``alpha = t / P`` (``t`` the step
  within the fade, so ``alpha`` goes 0, 1/P, ..., (P - 1)/P), then ``P`` stabilising steps at
  ``alpha = 1``;
* after ``P * (2L - 1)`` steps the last level trains at ``alpha = 1`` until ``trainer.max_steps``.

``P = 0`` trains the last level from the start (no growing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Stage", "growth_steps", "levels_for", "stage_at"]


@dataclass(frozen=True)
class Stage:
    """The networks' stage: ``level`` (0 = the start resolution) and the fade-in weight ``alpha``
    of that level's new block (1 = fully in)."""

    level: int
    alpha: float

    def resolution(self, start: int) -> int:
        return start * 2**self.level


def levels_for(start: int, resolution: int) -> int:
    """How many resolutions ``start, 2 start, ..., resolution`` there are (both powers of two)."""
    if start < 1 or resolution < start or 2 ** round(math.log2(resolution / start)) * start != resolution:
        raise ValueError(f"resolution {resolution} must be start_resolution {start} times a power of two")
    return round(math.log2(resolution // start)) + 1


def growth_steps(levels: int, phase_steps: int) -> int:
    """Steps until the last level is fully faded in and stabilised: ``P * (2 L - 1)``."""
    return phase_steps * (2 * levels - 1)


def stage_at(step: int, levels: int, phase_steps: int) -> Stage:
    """The :class:`Stage` trained at global step ``step`` (see the module docstring)."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if phase_steps <= 0:
        return Stage(levels - 1, 1.0)
    if step < phase_steps:
        return Stage(0, 1.0)
    grown, within = divmod(step - phase_steps, 2 * phase_steps)
    level = grown + 1
    if level >= levels:
        return Stage(levels - 1, 1.0)
    alpha = within / phase_steps if within < phase_steps else 1.0
    return Stage(level, alpha)
