"""Per-volume preparation of the user's files: orientation, spacing, checks, normalisation.

3D volumes are reoriented to one convention (RAS by default) with MONAI's ``Orientation``
and, when ``spacing`` is given, resampled with MONAI's ``Spacing`` (trilinear); the affine
follows. Every volume is then checked (finite, not constant) and normalised per volume;
the intensity map is recorded in ``Volume.norm`` so outputs can be mapped back
(:func:`recon.data.volume.denormalize`).

``normalize="auto"``: 8-bit images keep their bit-depth scaling to [0, 1] (photographs are
not contrast-stretched); everything else (volumes, 16-bit and float images) gets the
``percentile`` map (0th and 99.9th percentiles to 0 and 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recon.data.volume import NORMALIZATIONS, Volume, check_finite, normalize
from recon.errors import DataError


@dataclass(frozen=True)
class LoadOptions:
    """How user files are prepared (hashable: part of the cache keys)."""

    normalize: str = "auto"  # auto | percentile | zscore | none
    low: float = 0.0  # percentile map: these percentiles become 0 and 1
    high: float = 99.9
    orientation: str = "RAS"  # axis codes for 3D volumes; "" keeps the file's orientation
    spacing: tuple[float, ...] = ()  # resample 3D volumes to this voxel size in mm; () keeps it
    skip_bad: bool = False
    cache_dir: str = ""


def _check(options: LoadOptions) -> None:
    if options.normalize not in NORMALIZATIONS + ("auto",):
        raise DataError(f"unknown normalisation '{options.normalize}'; valid: auto, {', '.join(NORMALIZATIONS)}")
    if options.spacing and (len(options.spacing) != 3 or min(options.spacing) <= 0):
        raise DataError(f"data.spacing must be three positive numbers (mm), got {list(options.spacing)}")


def _meta_tensor(volume: Volume):  # noqa: ANN202 - a monai MetaTensor
    import torch
    from monai.data import MetaTensor

    return MetaTensor(torch.from_numpy(np.ascontiguousarray(volume.array)),
                      affine=torch.as_tensor(volume.affine, dtype=torch.float64))


def _from_meta(tensor, volume: Volume) -> Volume:  # noqa: ANN001
    array = np.ascontiguousarray(tensor.numpy(), dtype=np.float32)
    affine = np.asarray(tensor.affine.numpy(), dtype=np.float64)
    return Volume(array, affine, volume.source, dict(volume.norm))


def reorient(volume: Volume, axcodes: str = "RAS") -> Volume:
    """A ``(C, X, Y, Z)`` volume with its voxel axes along ``axcodes`` (MONAI Orientation)."""
    from monai.transforms import Orientation

    if volume.spatial_dims != 3 or not axcodes:
        return volume
    try:
        transform = Orientation(axcodes=axcodes, labels=(("L", "R"), ("P", "A"), ("I", "S")))
        return _from_meta(transform(_meta_tensor(volume)), volume)
    except ValueError as exc:
        raise DataError(f"{volume.source}: cannot reorient to {axcodes} ({exc})") from None


def resample_spacing(volume: Volume, spacing: tuple[float, ...], mode: str = "bilinear") -> Volume:
    """Resample a ``(C, X, Y, Z)`` volume to voxel size ``spacing`` mm (MONAI Spacing)."""
    from monai.transforms import Spacing

    if volume.spatial_dims != 3 or not spacing:
        return volume
    return _from_meta(Spacing(pixdim=tuple(float(s) for s in spacing), mode=mode)(_meta_tensor(volume)), volume)


def resample_like(volume: Volume, reference: Volume) -> Volume:
    """``volume`` on ``reference``'s grid: by world coordinates (MONAI ``ResampleToMatch``)
    for 3D volumes, by resizing (MONAI ``Resize``) for 2D images without geometry."""
    import torch
    from monai.transforms import Resize, ResampleToMatch

    if volume.spatial_dims != reference.spatial_dims:
        raise DataError(f"{volume.source}: {volume.spatial_dims}D, cannot be resampled onto the "
                        f"{reference.spatial_dims}D {reference.source}")
    if volume.spatial_dims == 3:
        out = ResampleToMatch(mode="bilinear", padding_mode="zeros")(_meta_tensor(volume), _meta_tensor(reference))
        return _from_meta(out, volume)
    resized = Resize(spatial_size=reference.array.shape[1:], mode="bilinear")(torch.from_numpy(volume.array))
    return Volume(np.ascontiguousarray(np.asarray(resized), dtype=np.float32), reference.affine.copy(),
                  volume.source, dict(volume.norm))


def prepare(volume: Volume, options: LoadOptions) -> Volume:
    """Orient, resample, check and normalise one volume read from a user's file."""
    _check(options)
    check_finite(volume.array, volume.source)
    if volume.spatial_dims == 3:
        volume = resample_spacing(reorient(volume, options.orientation), options.spacing)
    method = options.normalize
    if method == "auto":
        if volume.norm.get("method") == "dtype" and volume.norm.get("bits") == 8:
            return volume
        method = "percentile"
    prior = volume.norm
    out = normalize(volume, method, options.low, options.high)
    if prior.get("method") == "dtype":  # compose, so denormalize() returns the file's integer values
        out.norm.update(offset=out.norm["offset"] * prior["scale"], scale=out.norm["scale"] * prior["scale"],
                        bits=prior["bits"])
    return out
