"""The in-memory unit of data: a channel-first array with its affine and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recon.errors import DataError


@dataclass
class Volume:
    """An image or volume, channel first.

    Attributes:
        array: float32, ``(C, X, Y, Z)`` for volumes or ``(C, H, W)`` for 2D images.
        affine: ``(4, 4)`` voxel-to-world matrix (identity for 2D images).
        source: the file path or built-in source name it came from.
        norm: how intensities were normalised (so outputs can be mapped back).
        meta: what a writer needs to give an output the input's format back: ``format``
            (``nifti``, ``dicom``, ``png``, ``tiff``, ``jpeg``...), ``dtype`` (the stored
            pixel type, e.g. ``"int16"``), ``bits``, and format headers (``nifti_header``, a
            ``nibabel.Nifti1Header``; ``dicom``, the series' datasets without pixel data).
    """

    array: np.ndarray
    affine: np.ndarray = field(default_factory=lambda: np.eye(4))
    source: str = ""
    norm: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def spatial_dims(self) -> int:
        return self.array.ndim - 1

    @property
    def channels(self) -> int:
        return int(self.array.shape[0])


def check_finite(array: np.ndarray, source: str) -> None:
    """Refuse NaN/Inf and constant arrays with a DataError naming ``source``."""
    if array.size == 0:
        raise DataError(f"{source}: empty image")
    if not np.isfinite(array).all():
        raise DataError(f"{source}: contains NaN or Inf values")
    if float(array.max()) == float(array.min()):
        raise DataError(f"{source}: constant image (every voxel is {float(array.min()):g})")


def normalize_percentile(volume: Volume, low: float = 0.0, high: float = 99.9) -> Volume:
    """Map intensities linearly so the ``low``/``high`` percentiles become 0/1, then clip.

    The mapping is recorded in ``volume.norm`` (``value = x * scale + offset`` maps back).
    """
    check_finite(volume.array, volume.source)
    lo, hi = np.percentile(volume.array, [low, high])
    if hi <= lo:
        lo, hi = float(volume.array.min()), float(volume.array.max())
    scaled = np.clip((volume.array - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
    norm = {"method": "percentile", "low": low, "high": high, "offset": float(lo), "scale": float(hi - lo)}
    return Volume(scaled, volume.affine, volume.source, norm)


def normalize_zscore(volume: Volume) -> Volume:
    """Zero mean, unit variance over the volume (not clipped); recorded like the percentile map."""
    check_finite(volume.array, volume.source)
    mean, std = float(volume.array.mean()), float(volume.array.std())
    scaled = ((volume.array - mean) / std).astype(np.float32)
    return Volume(scaled, volume.affine, volume.source, {"method": "zscore", "offset": mean, "scale": std})


NORMALIZATIONS = ("percentile", "zscore", "max", "none")


def normalize(volume: Volume, method: str = "percentile", low: float = 0.0, high: float = 99.9) -> Volume:
    """Per-volume intensity normalisation by name: ``percentile`` (to [0, 1]), ``zscore``,
    ``max`` (divided by the maximum, clipped to [0, 1]) or ``none`` (values kept; finiteness
    still checked). The map is recorded in ``norm``."""
    if method == "percentile":
        return normalize_percentile(volume, low, high)
    if method == "zscore":
        return normalize_zscore(volume)
    if method == "max":  # the built-in volumes' convention: divided by the volume's maximum
        check_finite(volume.array, volume.source)
        peak = float(volume.array.max())
        if peak <= 0:
            raise DataError(f"{volume.source}: no positive intensities to scale to [0, 1]")
        scaled = np.clip(volume.array / peak, 0.0, 1.0).astype(np.float32)
        return Volume(scaled, volume.affine, volume.source, {"method": "max", "offset": 0.0, "scale": peak})
    if method == "none":
        check_finite(volume.array, volume.source)
        return Volume(volume.array, volume.affine, volume.source, {"method": "none", "offset": 0.0, "scale": 1.0})
    raise DataError(f"unknown normalisation '{method}'; valid: {', '.join(NORMALIZATIONS)}")


def denormalize(array: np.ndarray, norm: dict[str, Any]) -> np.ndarray:
    """Invert :func:`normalize_percentile` (or z-score) using the recorded ``norm``."""
    if not norm:
        return array
    return array * norm["scale"] + norm["offset"]
