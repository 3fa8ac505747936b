"""3D training/evaluation volumes for a split (tasks that declare 3D support).

Same split rules as :mod:`recon.data.images2d`: one volume is split by slab along ``axis``
(each split gets its slab as a sub-volume), several volumes by subject. Every volume is
cropped to the bounding box of its foreground (MONAI ``CropForeground``, voxels above 5 % of
the maximum, 2-voxel margin) so random 3D patches rarely land in the background, then each
spatial dim is centre-cropped to a multiple of ``multiple``.
"""

from __future__ import annotations

import functools

import numpy as np

from recon.data.collection import load_source
from recon.data.images2d import ImageSpec, load_options, plan_for, record
from recon.data.slices import crop_to_multiple
from recon.errors import DataError


def crop_foreground(array: np.ndarray, threshold: float = 0.05, margin: int = 2) -> np.ndarray:
    """``(C, X, Y, Z)`` cropped to the box of voxels above ``threshold`` x max (MONAI CropForeground)."""
    from monai.transforms import CropForeground

    peak = float(array.max())
    if peak <= 0:
        return array
    cropper = CropForeground(select_fn=lambda x: x > threshold * peak, margin=margin, allow_smaller=True)
    out = cropper(array)  # type: ignore[arg-type]  # MONAI annotates Tensor; it takes NdarrayOrTensor
    return np.ascontiguousarray(out.numpy() if hasattr(out, "numpy") else np.asarray(out), dtype=np.float32)


def _crop_multiple_3d(array: np.ndarray, multiple: int) -> np.ndarray:
    moved = crop_to_multiple(array, multiple)  # the last two dims
    return np.moveaxis(crop_to_multiple(np.moveaxis(moved, 1, -1), multiple), -1, 1)


@functools.lru_cache(maxsize=8)
def load_split_volumes(spec: ImageSpec, split: str) -> tuple[tuple[int, np.ndarray], ...]:
    """``(volume_id, volume (C, X, Y, Z))`` of ``split``: slabs of one volume or whole volumes."""
    loaded = load_source(spec.source, load_options(spec), spec.role)
    flat = [item for item, v in zip(loaded.items, loaded.volumes, strict=True) if v.spatial_dims != 3]
    if flat:
        raise DataError(f"{flat[0]}: a 2D image, but this task works on 3D volumes (model.spatial_dims=3)")
    plan = plan_for(loaded, spec)
    record("volumes3d", spec, plan, loaded)
    out = []
    for vid in plan.volumes[split]:
        volume = loaded.volumes[vid].array
        if plan.method == "slab":
            index = [slice(None)] * 4
            index[spec.axis + 1] = slice(plan.slabs[split].start, plan.slabs[split].stop)
            volume = volume[tuple(index)]
        if volume.shape[0] != spec.channels:
            if spec.channels != 1:
                raise DataError(f"{loaded.items[vid]}: {volume.shape[0]} channels, the task expects {spec.channels}")
            volume = volume.mean(0, keepdims=True)
        cropped = _crop_multiple_3d(crop_foreground(volume), spec.multiple)
        if min(cropped.shape[1:]) < 1:
            raise DataError(f"{loaded.items[vid]}: nothing left of the {split} volume after cropping")
        out.append((vid, np.ascontiguousarray(cropped, dtype=np.float32)))
    return tuple(out)
