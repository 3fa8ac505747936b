"""2D training/evaluation images for a split, from a built-in source or the user's files.

One volume is split by slab (train | gap | val | gap | test along the slice axis); several
files are split by file (subject) with a fixed seed; with ``holdout=False`` every image is
evaluation data (``recon eval --data``). Volumes become slices along ``axis``; empty slices
are skipped; images are cropped to a multiple of ``multiple`` (the SR scale).
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recon.data.readers import list_data_files, read_any
from recon.data.slices import crop_to_multiple, foreground_fraction, nonempty, take_slices
from recon.data.splits import slab_split, subject_split
from recon.data.volume import Volume, check_finite, normalize_percentile
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


def _source_volumes(spec: ImageSpec) -> list[Volume]:
    from recon.plugins import get_plugin_system

    sources = get_plugin_system().registries["data_sources"]
    if spec.source in sources:
        data = sources.build(spec.source)
        return list(data) if isinstance(data, (list, tuple)) else [data]
    path = Path(spec.source)
    if not path.exists():
        raise DataError(f"data source '{spec.source}' is neither a registered source "
                        f"({', '.join(sources.names())}) nor an existing path")
    volumes, skipped = [], []
    for file in list_data_files(path):
        try:
            volume = read_any(file)
            check_finite(volume.array, str(file))
            volumes.append(normalize_percentile(volume))
        except DataError as exc:
            if not spec.skip_bad:
                raise
            skipped.append(str(exc))
    if skipped:
        print(f"recon: skipped {len(skipped)} bad file(s) (data.skip_bad=true):", file=sys.stderr)
        for line in skipped:
            print(f"  {line}", file=sys.stderr)
    if not volumes:
        raise DataError(f"{path}: no usable images")
    return volumes


def _match_channels(array: np.ndarray, channels: int, source: str) -> np.ndarray:
    if array.shape[0] == channels:
        return array
    if channels == 1:
        return array.mean(0, keepdims=True)  # RGB -> gray for a 1-channel task
    if array.shape[0] == 1 and channels == 3:
        return np.repeat(array, 3, axis=0)
    raise DataError(f"{source}: {array.shape[0]} channels, the task expects {channels}")


def _to_images(volume: Volume, spec: ImageSpec, indices: range | None = None) -> list[np.ndarray]:
    if volume.spatial_dims == 3:
        n = volume.array.shape[spec.axis + 1]
        slices = take_slices(volume.array, spec.axis, indices if indices is not None else range(n))
        slices = nonempty(slices, spec.min_foreground)
        images = [s for s in slices]
    else:
        images = [volume.array]
    out = []
    for image in images:
        image = crop_to_multiple(_match_channels(image, spec.channels, volume.source), spec.multiple)
        out.append(np.ascontiguousarray(image, dtype=np.float32))
    return out


def _foreground_extent(volume: Volume, spec: ImageSpec) -> tuple[int, int]:
    """First and last slice index along ``spec.axis`` holding enough foreground."""
    n = volume.array.shape[spec.axis + 1]
    slices = take_slices(volume.array, spec.axis, range(n))
    keep = [i for i in range(n) if foreground_fraction(slices[i]) >= spec.min_foreground]
    if not keep:
        raise DataError(f"{volume.source}: no slice along axis {spec.axis} has foreground")
    return keep[0], keep[-1]


@functools.lru_cache(maxsize=16)
def load_split_images(spec: ImageSpec, split: str) -> tuple[tuple[int, np.ndarray], ...]:
    """``(volume_id, image (C, H, W))`` pairs of ``split`` (``train``, ``val`` or ``test``)."""
    volumes = _source_volumes(spec)
    result: list[tuple[int, np.ndarray]] = []
    if not spec.holdout:
        for vid, volume in enumerate(volumes):
            result += [(vid, im) for im in _to_images(volume, spec)]
    elif len(volumes) == 1 and volumes[0].spatial_dims == 3:
        first, last = _foreground_extent(volumes[0], spec)
        ranges = slab_split(last - first + 1, spec.val_fraction, spec.test_fraction, spec.gap)
        chosen = range(first + ranges[split].start, first + ranges[split].stop)
        result = [(0, im) for im in _to_images(volumes[0], spec, chosen)]
    else:
        if len(volumes) < 3:
            raise DataError(f"{spec.source}: need one 3D volume or at least 3 files to make train/val/test splits "
                            f"(got {len(volumes)}); for evaluation only use `recon eval --data`")
        chosen = subject_split(len(volumes), spec.val_fraction, spec.test_fraction, spec.seed)[split]
        for vid in chosen:
            result += [(vid, im) for im in _to_images(volumes[vid], spec)]
    if not result:
        raise DataError(f"{spec.source}: the {split} split holds no non-empty images")
    return tuple(result)
