"""2D slices from volumes (skipping empty ones) and cropping to a multiple of a scale."""

from __future__ import annotations

import numpy as np
from skimage.filters import threshold_otsu


def foreground_threshold(array: np.ndarray) -> float:
    """The intensity above which a voxel of ``array`` (a whole volume, or one 2D image) is foreground.

    Otsu's threshold of the array's intensities (``skimage.filters.threshold_otsu``), which
    separates a noisy background (Rician, as in every real magnitude scan) from the head. When
    the background is exact instead (at least half of the voxels at or below Otsu's threshold
    equal the array's minimum: a skull-stripped or masked volume such as the MNI152 template),
    no noise can pass and the threshold is 0, which leaves only :func:`foreground_fraction`'s
    5 %-of-the-slice-max floor (the rule used before, so such volumes keep their slices).
    """
    values = np.asarray(array)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return low
    otsu = float(threshold_otsu(values))
    background = int(np.count_nonzero(values <= otsu))
    if int(np.count_nonzero(values == low)) * 2 >= background:
        return 0.0
    return otsu


def foreground_fraction(slice_2d: np.ndarray, threshold: float | None = None, floor: float = 0.05) -> float:
    """Fraction of the pixels of a ``(C, H, W)`` slice that are foreground.

    A pixel is foreground when it exceeds ``threshold``, the level of the *whole volume* the
    slice comes from (:func:`foreground_threshold` of the volume), and ``floor`` times the
    slice's own max. Judged against the volume, a noise-only end slice of a real scan has
    (almost) no foreground, while against its own max its noise would all pass. With
    ``threshold=None`` the slice is taken as a single image and judged against its own
    :func:`foreground_threshold`. A slice whose max is <= 0 has none.
    """
    peak = float(slice_2d.max())
    if peak <= 0:
        return 0.0
    level = foreground_threshold(slice_2d) if threshold is None else threshold
    return float((slice_2d > max(floor * peak, level)).mean())


def take_slices(array: np.ndarray, axis: int, indices: range | list[int]) -> np.ndarray:
    """Slices of a ``(C, X, Y, Z)`` array along spatial ``axis`` (0..2) -> ``(N, C, H, W)``."""
    moved = np.moveaxis(array, axis + 1, 1)  # (C, N, H, W)
    return np.ascontiguousarray(moved[:, list(indices)].transpose(1, 0, 2, 3))


def nonempty(slices: np.ndarray, min_foreground: float) -> np.ndarray:
    """Keep the ``(N, C, H, W)`` slices (every slice of one volume) whose foreground fraction,
    judged against the stack's :func:`foreground_threshold`, reaches ``min_foreground``."""
    level = foreground_threshold(slices)
    keep = [i for i in range(slices.shape[0]) if foreground_fraction(slices[i], level) >= min_foreground]
    return slices[keep]


def crop_to_multiple(images: np.ndarray, multiple: int) -> np.ndarray:
    """Centre-crop the last two dims of ``(..., H, W)`` to multiples of ``multiple``."""
    h, w = images.shape[-2:]
    nh, nw = h - h % multiple, w - w % multiple
    top, left = (h - nh) // 2, (w - nw) // 2
    return images[..., top:top + nh, left:left + nw]
