"""NumPy arrays (``.npy``/``.npz``) and fastMRI HDF5 reference images as Volumes.

Layouts: ``(H, W)`` -> a 2D image ``(1, H, W)``; ``(X, Y, Z)`` or ``(1, X, Y, Z)`` -> a volume
``(1, X, Y, Z)``. A fastMRI file's ``reconstruction_rss`` (multi-coil) or
``reconstruction_esc`` (single-coil), ``(slices, H, W)``, becomes ``(1, H, W, slices)`` so
``data.axis=2`` gives back the acquired slices. Only that dataset is read (an h5py slice):
MONAI's ``FastMRIReader.read`` loads every dataset, k-space included (gigabytes for a
multi-coil volume), and the k-space side lives in the ``mri_kspace`` plugin.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recon.data.volume import Volume
from recon.errors import DataError

NUMPY_SUFFIXES = (".npy", ".npz")
HDF5_SUFFIXES = (".h5", ".hdf5")
NPZ_KEYS = ("image", "volume", "data", "arr_0")
FASTMRI_IMAGE_KEYS = ("reconstruction_rss", "reconstruction_esc")


def _as_volume(array: np.ndarray, source: str) -> Volume:
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise DataError(f"{source}: expected a real numeric array, got dtype {array.dtype}")
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 2:
        return Volume(np.ascontiguousarray(array[None]), np.eye(4), source)
    if array.ndim == 3:
        return Volume(np.ascontiguousarray(array[None]), np.eye(4), source)
    if array.ndim == 4 and array.shape[0] == 1:
        return Volume(np.ascontiguousarray(array), np.eye(4), source)
    raise DataError(f"{source}: expected a 2D image or a 3D volume, got shape {tuple(array.shape)}")


def read_numpy(path: Path) -> Volume:
    """A ``.npy`` array or the image array of a ``.npz`` archive (keys tried: image, volume,
    data, arr_0, or the only array). Object arrays are refused (no pickle is loaded)."""
    try:
        if path.suffix.lower() != ".npz":
            return _as_volume(np.load(path, allow_pickle=False), str(path))
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.files)
            key = next((k for k in NPZ_KEYS if k in keys), keys[0] if len(keys) == 1 else None)
            if key is None:
                raise DataError(f"{path}: which array? expected one of {', '.join(NPZ_KEYS)} "
                                f"(found {', '.join(keys) or 'none'})")
            return _as_volume(data[key], str(path))
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy/zipfile raise many types on bad files
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: not a readable NumPy file ({reason})") from None


def read_fastmri_image(path: Path) -> Volume:
    """The reference magnitude volume of a fastMRI file as ``(1, H, W, slices)``."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            keys = list(f.keys())
            multicoil = "kspace" in f and f["kspace"].ndim == 4
            order = FASTMRI_IMAGE_KEYS if multicoil else FASTMRI_IMAGE_KEYS[::-1]
            key = next((k for k in order if k in f), None)
            if key is None:
                raise DataError(f"{path}: no reconstruction_rss or reconstruction_esc image in this HDF5 file "
                                f"(datasets: {', '.join(keys) or 'none'}); raw k-space is read by the mri_kspace task")
            array = np.asarray(f[key][()], dtype=np.float32)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py raises OSError/KeyError/... on bad files
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: not a readable HDF5 file ({reason})") from None
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise DataError(f"{path}: {key} has shape {tuple(array.shape)}, expected (slices, H, W)")
    return Volume(np.ascontiguousarray(array.transpose(1, 2, 0))[None], np.eye(4), str(path))
