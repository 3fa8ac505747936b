"""2D slices from volumes (skipping empty ones) and cropping to a multiple of a scale."""

from __future__ import annotations

import numpy as np


def foreground_fraction(slice_2d: np.ndarray, threshold: float = 0.05) -> float:
    """Fraction of pixels above ``threshold`` times the slice's own max (``(C, H, W)``)."""
    peak = float(slice_2d.max())
    if peak <= 0:
        return 0.0
    return float((slice_2d > threshold * peak).mean())


def take_slices(array: np.ndarray, axis: int, indices: range | list[int]) -> np.ndarray:
    """Slices of a ``(C, X, Y, Z)`` array along spatial ``axis`` (0..2) -> ``(N, C, H, W)``."""
    moved = np.moveaxis(array, axis + 1, 1)  # (C, N, H, W)
    return np.ascontiguousarray(moved[:, list(indices)].transpose(1, 0, 2, 3))


def nonempty(slices: np.ndarray, min_foreground: float) -> np.ndarray:
    """Keep the ``(N, C, H, W)`` slices whose foreground fraction reaches ``min_foreground``."""
    keep = [i for i in range(slices.shape[0]) if foreground_fraction(slices[i]) >= min_foreground]
    return slices[keep]


def crop_to_multiple(images: np.ndarray, multiple: int) -> np.ndarray:
    """Centre-crop the last two dims of ``(..., H, W)`` to multiples of ``multiple``."""
    h, w = images.shape[-2:]
    nh, nw = h - h % multiple, w - w % multiple
    top, left = (h - nh) // 2, (w - nw) // 2
    return images[..., top:top + nh, left:left + nw]
