"""The voxel grid of a prediction: its affine follows from what the model actually did.

A model that maps ``n`` voxels along an axis to ``m`` (``m = s * n`` for super-resolution by
``s``) covers the same field of view with voxels ``n / m`` as large. With voxel centres at
``0 .. n - 1`` in the input's voxel coordinates, output voxel ``i`` sits at
``(i + 0.5) * n / m - 0.5``: the outer voxel *edges* coincide (the convention of
``scipy.ndimage.zoom(grid_mode=True)`` and of resampling toolkits). The factor comes from
the arrays' shapes, never from the configuration, so a ``--set`` cannot put a x4 output on a
x2 grid.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["resampled_affine"]


def resampled_affine(affine: np.ndarray, in_shape: Sequence[int], out_shape: Sequence[int]) -> np.ndarray:
    """The ``(4, 4)`` affine of an output grid of ``out_shape`` voxels covering the extent of an
    input grid of ``in_shape`` voxels (spatial dims only, in the affine's axis order)."""
    if len(in_shape) != len(out_shape):
        raise ValueError(f"grid ranks differ: {tuple(in_shape)} vs {tuple(out_shape)}")
    transform = np.eye(4)
    for axis, (n, m) in enumerate(zip(in_shape, out_shape, strict=True)):
        step = n / m
        transform[axis, axis] = step
        transform[axis, 3] = (step - 1.0) / 2.0
    return np.asarray(affine, dtype=np.float64) @ transform
