"""Input conversion and validation shared by the metric functions.

Every metric accepts NumPy arrays or torch tensors (any device, any float/int dtype) and
works on a float64 NumPy copy, so the numbers do not depend on where the caller's data
lives. Bad inputs raise :class:`recon.errors.UsageError` with a one-line message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recon.errors import UsageError


def to_float64(x: Any, name: str = "input") -> np.ndarray:
    """Return ``x`` (ndarray, tensor, or nested sequence) as a float64 NumPy array.

    Torch tensors are detached and moved to the CPU first; the array is always a copy or
    a fresh conversion, never a view the caller could modify behind our back.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor, without importing torch
        x = x.detach().cpu()
        if getattr(x, "is_complex", lambda: False)():
            raise UsageError(f"{name} is complex; pass the magnitude image")
        x = x.double().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{name} is not an array: {exc}") from None
    if np.iscomplexobj(arr):
        raise UsageError(f"{name} is complex; pass the magnitude image")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise UsageError(f"{name} has non-numeric dtype {arr.dtype}")
    return arr.astype(np.float64, copy=True)


def check_finite(x: np.ndarray, name: str) -> None:
    """Raise UsageError when ``x`` is empty or holds NaN/Inf."""
    if x.size == 0:
        raise UsageError(f"{name} is empty (shape {tuple(x.shape)})")
    if not np.isfinite(x).all():
        n_bad = int((~np.isfinite(x)).sum())
        raise UsageError(f"{name} contains {n_bad} NaN/Inf value(s)")


def as_pair(gt: Any, pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert ``gt`` and ``pred`` to float64 and check they are finite, non-empty, same shape."""
    g = to_float64(gt, "gt")
    p = to_float64(pred, "pred")
    if g.shape != p.shape:
        raise UsageError(f"gt and pred shapes differ: {tuple(g.shape)} vs {tuple(p.shape)}")
    check_finite(g, "gt")
    check_finite(p, "pred")
    return g, p


def check_scale(scale: Any) -> int:
    """Validate the border crop ``scale`` (a non-negative int)."""
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 0:
        raise UsageError(f"scale must be a non-negative integer, got {scale!r}")
    return int(scale)


def check_min_size(h: int, w: int, minimum: int, what: str) -> None:
    """Raise UsageError when an ``h x w`` image is smaller than ``minimum`` on a side."""
    if h < minimum or w < minimum:
        raise UsageError(f"{what} needs images of at least {minimum}x{minimum}, got {h}x{w}")


def as_features(x: Any, name: str, min_rows: int = 1) -> np.ndarray:
    """``(N, D)`` float64 features, finite, with at least ``min_rows`` rows."""
    arr = to_float64(x, name)
    if arr.ndim != 2:
        raise UsageError(f"{name} must be (N, D) features, got shape {tuple(arr.shape)}")
    check_finite(arr, name)
    if arr.shape[0] < min_rows:
        raise UsageError(f"{name} needs at least {min_rows} samples, got {arr.shape[0]}")
    return arr
