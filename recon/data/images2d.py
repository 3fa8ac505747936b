"""2D training/evaluation images for a split, from a built-in source or the user's files.

One volume is split by slab (train | gap | val | gap | test along the slice axis); several
files are split by file (subject) with a fixed seed; with ``holdout=False`` every image is
evaluation data (``recon eval --data``). Volumes become slices along ``axis``; empty slices
are skipped; images are cropped to a multiple of ``multiple`` (the SR scale). The split is
recorded for ``splits.json`` (:mod:`recon.data.split_record`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from recon.data.collection import LoadedSource, load_source
from recon.data.preprocess import LoadOptions
from recon.data.slices import crop_to_multiple, foreground_fraction, foreground_threshold, nonempty, take_slices
from recon.data.split_plan import SplitPlan, plan_splits
from recon.data.split_record import record_split
from recon.data.volume import Volume
from recon.errors import DataError


@dataclass(frozen=True)
class ImageSpec:
    """What to load (hashable, so loads are cached per process)."""

    source: str
    axis: int = 2
    multiple: int = 1
    min_foreground: float = 0.1
    val_fraction: float = 0.15
    test_fraction: float = 0.2
    gap: int = 8
    seed: int = 0
    holdout: bool = True
    skip_bad: bool = False
    channels: int = 1
    normalize: str = "auto"  # auto | percentile | zscore | none (user files)
    orientation: str = "RAS"  # 3D volumes are reoriented to these axis codes ("" keeps them)
    spacing: tuple[float, ...] = ()  # resample 3D volumes to this voxel size (mm)
    cache_dir: str = ""  # disk cache of decoded volumes ("" = built-in sources only, ~/.cache/recon)
    role: str = ""  # the manifest column to read when ``source`` is a CSV/JSON manifest


def load_options(spec: ImageSpec) -> LoadOptions:
    """The file-preparation options of a spec (shared with :mod:`recon.data.pairs2d`)."""
    return LoadOptions(normalize=spec.normalize, orientation=spec.orientation, spacing=tuple(spec.spacing),
                       skip_bad=spec.skip_bad, cache_dir=spec.cache_dir)


def match_channels(array: np.ndarray, channels: int, source: str) -> np.ndarray:
    """``(C, H, W)`` with ``channels`` channels: RGB -> gray by the mean, gray -> RGB by repetition."""
    if array.shape[0] == channels:
        return array
    if channels == 1:
        return array.mean(0, keepdims=True)  # RGB -> gray for a 1-channel task
    if array.shape[0] == 1 and channels == 3:
        return np.repeat(array, 3, axis=0)
    raise DataError(f"{source}: {array.shape[0]} channels, the task expects {channels}")


def check_axis(axis: int) -> None:
    if not 0 <= axis <= 2:
        raise DataError(f"data.axis must be 0, 1 or 2, got {axis}")


def slice_indices(volume: Volume, spec: ImageSpec, indices: range | None = None) -> list[int]:
    """Indices along ``spec.axis`` (within ``indices``) whose slice holds enough foreground.

    Foreground is judged against the whole volume (:func:`recon.data.slices.foreground_threshold`),
    so noise-only end slices of a scan are left out.
    """
    check_axis(spec.axis)
    n = volume.array.shape[spec.axis + 1]
    chosen = list(indices if indices is not None else range(n))
    if spec.min_foreground <= 0:
        return chosen
    level = foreground_threshold(volume.array)
    slices = take_slices(volume.array, spec.axis, chosen)
    return [i for i, s in zip(chosen, slices, strict=True) if foreground_fraction(s, level) >= spec.min_foreground]


def to_images(volume: Volume, spec: ImageSpec, indices: list[int] | None = None) -> list[np.ndarray]:
    """2D ``(C, H, W)`` float32 images of a volume (the given slice indices) or of a 2D image."""
    if volume.spatial_dims == 3:
        if indices is None:
            images = list(nonempty(take_slices(volume.array, spec.axis, range(volume.array.shape[spec.axis + 1])),
                                   spec.min_foreground))
        else:
            images = list(take_slices(volume.array, spec.axis, indices)) if indices else []
    else:
        images = [volume.array]
    return [np.ascontiguousarray(crop_to_multiple(match_channels(im, spec.channels, volume.source), spec.multiple),
                                 dtype=np.float32) for im in images]


def foreground_extent(volume: Volume, spec: ImageSpec) -> tuple[int, int]:
    """First and last slice index along ``spec.axis`` holding enough foreground."""
    keep = slice_indices(volume, spec)
    if not keep:
        raise DataError(f"{volume.source}: no slice along axis {spec.axis} has foreground")
    return keep[0], keep[-1]


def plan_for(loaded: LoadedSource, spec: ImageSpec, reference: list[Volume] | None = None) -> SplitPlan:
    """The split plan of a loaded source (slab rule for a single 3D volume)."""
    volumes = reference if reference is not None else loaded.volumes
    single = len(volumes) == 1 and volumes[0].spatial_dims == 3 and spec.holdout
    extent = foreground_extent(volumes[0], spec) if single else None
    return plan_splits(spec.source, loaded.subjects, extent, val_fraction=spec.val_fraction,
                       test_fraction=spec.test_fraction, gap=spec.gap, seed=spec.seed, holdout=spec.holdout)


def record(kind: str, spec: ImageSpec, plan: SplitPlan, loaded: LoadedSource, **extra: object) -> None:
    """Record the split of ``spec`` for ``splits.json``."""
    norms = {item: v.norm for item, v in zip(loaded.items, loaded.volumes, strict=True) if v.norm}
    info = {"kind": kind, "axis": spec.axis, "seed": spec.seed, "gap": spec.gap,
            "val_fraction": spec.val_fraction, "test_fraction": spec.test_fraction,
            "skipped": list(loaded.skipped), "normalization": norms, **extra}
    record_split(f"{kind}:{spec!r}", plan.record(spec.source, loaded.items, info))


@functools.lru_cache(maxsize=16)
def load_split_images(spec: ImageSpec, split: str) -> tuple[tuple[int, np.ndarray], ...]:
    """``(volume_id, image (C, H, W))`` pairs of ``split`` (``train``, ``val`` or ``test``)."""
    loaded = load_source(spec.source, load_options(spec), spec.role)
    plan = plan_for(loaded, spec)
    record("images2d", spec, plan, loaded)
    result: list[tuple[int, np.ndarray]] = []
    for vid in plan.volumes[split]:
        volume = loaded.volumes[vid]
        indices = slice_indices(volume, spec, plan.slabs[split]) if plan.method == "slab" else None
        result += [(vid, im) for im in to_images(volume, spec, indices)]
    if not result:
        raise DataError(f"{spec.source}: the {split} split holds no non-empty images")
    return tuple(result)
