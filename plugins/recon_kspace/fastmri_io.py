"""fastMRI HDF5 files: read (MONAI's ``FastMRIReader``, or h5py for one slice) and write fakes.

A fastMRI file holds ``kspace``: complex64 ``(slices, H, W)`` single-coil or
``(slices, coils, H, W)`` multi-coil, in the centred convention of ``fft.py`` (``ifft2c`` gives the
image); optionally ``reconstruction_esc`` (single-coil target, cropped to 320x320),
``reconstruction_rss`` (multi-coil target), ``mask`` ``(W,)`` (test/challenge files, whose
k-space is already undersampled) and ``ismrmrd_header``; attributes ``acquisition``, ``max``,
``norm``, ``patient_id``.

``read_fastmri`` reads a whole volume with ``monai.apps.reconstruction.fastmri_reader.
FastMRIReader.read`` (a dict of every dataset and attribute, plus ``filename``). We skip its
``get_data``: the meta it builds keeps only MONAI's ``FastMRIKeys`` (no ``reconstruction_esc``)
and, for files without a ``mask``, allocates a float64 zero array the size of the k-space.
MONAI's ``read`` fails on files that also hold HDF5 groups; those fall back to h5py.
``read_fastmri_slice`` uses h5py slicing because MONAI's reader has no partial read, and a
training loader should not load a 35-slice volume to use one slice. Every failure — missing
file, not HDF5, truncated, no ``kspace``, wrong rank or dtype — is a ``DataError`` naming the
file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from recon.api import DataError

__all__ = ["FastMRIVolume", "read_fastmri", "read_fastmri_slice", "fastmri_info", "write_fastmri", "make_fake_fastmri"]

_OPTIONAL = ("reconstruction_rss", "reconstruction_esc", "mask")


@dataclass
class FastMRIVolume:
    """A fastMRI volume. ``kspace`` is complex64 ``(S, H, W)`` or ``(S, C, H, W)`` (numpy)."""

    path: str
    kspace: np.ndarray
    reconstruction_rss: np.ndarray | None = None
    reconstruction_esc: np.ndarray | None = None
    mask: np.ndarray | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def multicoil(self) -> bool:
        return self.kspace.ndim == 4

    @property
    def num_slices(self) -> int:
        return int(self.kspace.shape[0])

    @property
    def target(self) -> np.ndarray | None:
        """The reference magnitude volume: ``reconstruction_rss`` (multi-coil) else ``_esc``."""
        first, second = (
            (self.reconstruction_rss, self.reconstruction_esc)
            if self.multicoil
            else (self.reconstruction_esc, self.reconstruction_rss)
        )
        return first if first is not None else second

    def slice_kspace(self, index: int) -> Tensor:
        """Slice ``index`` as complex64 torch ``(C, H, W)`` (``C = 1`` for single-coil)."""
        k = torch.from_numpy(np.ascontiguousarray(self.kspace[index]))
        return k.unsqueeze(0) if k.ndim == 2 else k


def _name(path: str | os.PathLike) -> str:
    return os.fspath(path)


def _open_checks(path: str | os.PathLike) -> str:
    import h5py

    p = _name(path)
    if not os.path.exists(p):
        raise DataError(f"{p}: no such fastMRI file")
    if os.path.isdir(p):
        raise DataError(f"{p}: is a directory, not a fastMRI HDF5 file")
    try:
        ok = h5py.is_hdf5(p)
    except OSError as e:
        raise DataError(f"{p}: cannot read ({e.strerror or e})") from None
    if not ok:
        raise DataError(f"{p}: not an HDF5 file (fastMRI files are HDF5 with a 'kspace' dataset)")
    return p


def _check_kspace(p: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if len(shape) not in (3, 4):
        raise DataError(
            f"{p}: 'kspace' has rank {len(shape)} {tuple(shape)}; expected (slices, H, W) or (slices, coils, H, W)"
        )
    if 0 in shape:
        raise DataError(f"{p}: 'kspace' is empty {tuple(shape)}")
    if not np.issubdtype(dtype, np.complexfloating):
        raise DataError(f"{p}: 'kspace' has dtype {dtype}; expected complex k-space")


def fastmri_info(path: str | os.PathLike) -> dict[str, Any]:
    """Shape facts without loading the data: ``{"shape", "num_slices", "multicoil", "keys"}``."""
    import h5py

    p = _open_checks(path)
    try:
        with h5py.File(p, "r") as f:
            if "kspace" not in f or not isinstance(f["kspace"], h5py.Dataset):
                raise DataError(f"{p}: no 'kspace' dataset (found: {', '.join(sorted(f.keys())) or 'nothing'})")
            ds = f["kspace"]
            _check_kspace(p, ds.shape, ds.dtype)
            return {"shape": tuple(ds.shape), "num_slices": int(ds.shape[0]), "multicoil": ds.ndim == 4,
                    "keys": sorted(f.keys())}
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise DataError(f"{p}: unreadable fastMRI file ({e})") from None


def _read_datasets(p: str) -> dict[str, Any]:
    """h5py fallback with MONAI's ``read`` dict layout: top-level datasets, attributes, filename."""
    import h5py

    with h5py.File(p, "r") as f:
        out: dict[str, Any] = {k: v[()] for k, v in f.items() if isinstance(v, h5py.Dataset)}
        out.update(dict(f.attrs))
    out["filename"] = os.path.basename(p)
    return out


def read_fastmri(path: str | os.PathLike) -> FastMRIVolume:
    """Read a whole fastMRI volume through MONAI's ``FastMRIReader``."""
    from monai.apps.reconstruction.fastmri_reader import FastMRIReader

    p = _open_checks(path)
    fastmri_info(p)  # cheap structural checks first (no 'kspace', rank, dtype) with a clear message
    reader = FastMRIReader()
    try:
        try:
            raw = reader.read(p)
        except (TypeError, AttributeError):
            raw = _read_datasets(p)  # MONAI's read fails on HDF5 groups next to the datasets
        kspace = np.asarray(raw["kspace"])
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise DataError(f"{p}: unreadable fastMRI file ({e})") from None
    _check_kspace(p, kspace.shape, kspace.dtype)
    optional = {k: (np.asarray(raw[k]) if k in raw else None) for k in _OPTIONAL}
    attrs = {str(getattr(k, "value", k)): v for k, v in raw.items() if not isinstance(v, np.ndarray) or np.ndim(v) == 0}
    attrs.pop("kspace", None)
    for k in _OPTIONAL:
        attrs.pop(k, None)
    return FastMRIVolume(path=p, kspace=kspace.astype(np.complex64, copy=False), attrs=attrs, **optional)


def read_fastmri_slice(path: str | os.PathLike, index: int) -> tuple[Tensor, np.ndarray | None]:
    """One slice without loading the volume: (complex64 ``(C, H, W)`` k-space, its target or None).

    The target is ``reconstruction_rss`` for multi-coil and ``reconstruction_esc`` for
    single-coil files (the other one as a fallback).
    """
    import h5py

    p = _open_checks(path)
    info = fastmri_info(p)
    n = info["num_slices"]
    if not -n <= int(index) < n:
        raise DataError(f"{p}: slice {index} out of range (the file has {n} slices)")
    try:
        with h5py.File(p, "r") as f:
            k = np.asarray(f["kspace"][int(index)]).astype(np.complex64, copy=False)
            keys = (("reconstruction_rss", "reconstruction_esc") if info["multicoil"]
                    else ("reconstruction_esc", "reconstruction_rss"))
            target = next((np.asarray(f[key][int(index)]) for key in keys if key in f), None)
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise DataError(f"{p}: unreadable fastMRI file ({e})") from None
    kt = torch.from_numpy(np.ascontiguousarray(k))
    return (kt.unsqueeze(0) if kt.ndim == 2 else kt), target


def write_fastmri(
    path: str | os.PathLike,
    kspace: np.ndarray | None,
    *,
    reconstruction_rss: np.ndarray | None = None,
    reconstruction_esc: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    attrs: dict[str, Any] | None = None,
) -> str:
    """Write a fastMRI-layout HDF5 file (``kspace=None`` writes a file without it, for tests)."""
    import h5py

    p = _name(path)
    with h5py.File(p, "w") as f:
        if kspace is not None:
            f.create_dataset("kspace", data=np.asarray(kspace))
        for key, val in (("reconstruction_rss", reconstruction_rss), ("reconstruction_esc", reconstruction_esc),
                         ("mask", mask)):
            if val is not None:
                f.create_dataset(key, data=np.asarray(val))
        for key, val in (attrs or {}).items():
            f.attrs[key] = val
    return p


def make_fake_fastmri(
    path: str | os.PathLike, *, num_slices: int = 2, num_coils: int = 0, shape: tuple[int, int] = (32, 32),
    seed: int = 0,
) -> str:
    """A tiny fake fastMRI file: smooth random images with phase -> k-space (+ the matching target).

    ``num_coils=0`` writes single-coil ``(S, H, W)`` k-space and ``reconstruction_esc``;
    ``num_coils >= 1`` writes ``(S, C, H, W)`` and ``reconstruction_rss``.
    """
    from recon.api import coil_combine_rss, fft2c, sense_expand, simulate_coil_maps
    from .simulate import add_smooth_phase, smooth_random_phase

    gen = torch.Generator().manual_seed(int(seed))
    mag = 1.0 + smooth_random_phase((num_slices, *shape), max_phase=0.5, generator=gen)
    image = add_smooth_phase(mag, generator=gen)
    if num_coils >= 1:
        coil_images = sense_expand(image, simulate_coil_maps(num_coils, shape, seed=seed))
        kspace = fft2c(coil_images)
        target = {"reconstruction_rss": coil_combine_rss(coil_images).numpy()}
    else:
        kspace = fft2c(image)
        target = {"reconstruction_esc": image.abs().numpy()}
    attrs = {"acquisition": "FAKE", "max": float(next(iter(target.values())).max()), "patient_id": f"fake{seed}"}
    return write_fastmri(path, kspace.numpy().astype(np.complex64), attrs=attrs, **target)
