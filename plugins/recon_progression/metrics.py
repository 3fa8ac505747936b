"""Volumetric fidelity of ``mri_progression``, registered as metrics of core's paired evaluation.

For one scored unit (a case: the slice, or the slices of a volume, stacked ``(S, H, W)``),
with ``V(x)`` the ventricle volume and ``B(x)`` the brain volume of the fixed segmentation
(:mod:`recon_progression.segment`, summed over slices):

* ``ventricle_change_error`` = ``100 |(V(pred) - V(base)) - (V(true) - V(base))| / V(base)``,
* ``brain_change_error`` = the same with ``B``,

in percentage points of the baseline's volume (a relative error of the change itself is
undefined when the true change is near zero, e.g. at short intervals). The no-change
baseline's error is therefore the size of the true change. Lower is better.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from recon_progression.segment import segment


def volumes(stack: np.ndarray) -> tuple[float, float]:
    """``(ventricle, brain)`` volumes (pixels) of ``(S, H, W)`` or ``(H, W)`` slices in [0, 1]."""
    stack = np.asarray(stack)
    if stack.ndim == 2:
        stack = stack[None]
    segs = [segment(s) for s in stack]
    return float(sum(s.ventricle_area for s in segs)), float(sum(s.brain_area for s in segs))


def change_error(which: int) -> Callable[..., float]:
    """The metric ``(target, prediction, input=baseline) -> float`` of volume ``which`` (0 ventricles, 1 brain)."""

    def metric(target: np.ndarray, prediction: np.ndarray, input: np.ndarray) -> float:  # noqa: A002
        base = volumes(input)[which]
        if base <= 0:
            return float("nan")
        true, pred = volumes(target)[which], volumes(prediction)[which]
        return 100.0 * abs(pred - true) / base

    return metric
