"""Read and write images and volumes; every failure is a DataError naming the file.

Formats (dispatch on the name; a folder is a DICOM series):

- NIfTI (``.nii``, ``.nii.gz``): MONAI ``LoadImage`` with the nibabel backend, affine kept.
- DICOM: a folder per series, sorted by slice position (:mod:`recon.data.dicom`).
- PNG/JPEG/BMP (Pillow) and TIFF (tifffile): 8 or 16 bit, gray or RGB, scaled by the bit
  depth to [0, 1] (``norm`` records it). MONAI's ``PILReader`` is not used: it returns
  ``(W, H)`` arrays and keeps raw integer values, so 8/16-bit scaling would be redone anyway.
- NumPy ``.npy``/``.npz`` and fastMRI HDF5 reference images (:mod:`recon.data.array_files`).

Writing: NIfTI with nibabel (the affine MONAI read), images with Pillow.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from recon.data.array_files import HDF5_SUFFIXES, NUMPY_SUFFIXES, read_fastmri_image, read_numpy
from recon.data.dicom import dicom_files, is_dicom_file, read_dicom
from recon.data.volume import Volume
from recon.errors import DataError

NIFTI_SUFFIXES = (".nii", ".nii.gz")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
TIFF_SUFFIXES = (".tif", ".tiff")
KNOWN = "NIfTI, DICOM, PNG/JPEG/TIFF, .npy/.npz or fastMRI .h5"


def is_nifti(path: Path) -> bool:
    """Whether ``path`` names a NIfTI file (``.nii`` or ``.nii.gz``)."""
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def is_image(path: Path) -> bool:
    """Whether ``path`` names a 2D image file recon reads (PNG, TIFF, JPEG ...)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_array_file(path: Path) -> bool:
    return path.suffix.lower() in NUMPY_SUFFIXES + HDF5_SUFFIXES


def is_data_file(path: Path) -> bool:
    """A file one of the readers handles (DICOM files are found by suffix or preamble)."""
    return is_nifti(path) or is_image(path) or is_array_file(path) or is_dicom_file(path)


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__


def read_nifti(path: Path) -> Volume:
    """A NIfTI file as a ``(1, X, Y, Z)`` float32 Volume with its affine."""
    from monai.transforms import LoadImage

    try:
        with warnings.catch_warnings():  # MONAI probes optional GPU decoders on first use
            warnings.simplefilter("ignore", UserWarning)
            loader = LoadImage(image_only=True, reader="NibabelReader", dtype=np.float32)
        data = loader(str(path))
        array = np.asarray(data, dtype=np.float32)
        affine = np.asarray(data.affine, dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - nibabel/gzip/monai raise many types
        raise DataError(f"{path}: not a readable NIfTI file ({_reason(exc)})") from None
    if array.ndim == 2:
        array = array[None, :, :, None]
    elif array.ndim == 3:
        array = array[None]
    elif array.ndim == 4 and array.shape[-1] == 1:
        array = array[None, ..., 0]
    else:
        raise DataError(f"{path}: expected a 3D volume, got shape {tuple(array.shape)}")
    return Volume(array, affine, str(path), meta=_nifti_meta(path))


def _nifti_meta(path: Path) -> dict:
    """The header of a NIfTI file (no voxel data read) and its stored pixel type, for writers."""
    import nibabel as nib

    try:
        header: Any = nib.load(str(path)).header.copy()
    except Exception:  # noqa: BLE001 - read above already; an odd header only loses the metadata
        return {"format": "nifti"}
    return {"format": "nifti", "dtype": str(header.get_data_dtype()), "nifti_header": header}


def _scale_integer(raw: np.ndarray, path: Path) -> tuple[np.ndarray, dict]:
    """Integer pixels -> float32 in [0, 1] by bit depth; floats kept as they are."""
    if raw.dtype == np.uint8 or raw.dtype == bool:
        return raw.astype(np.float32) / 255.0, {"method": "dtype", "bits": 8, "offset": 0.0, "scale": 255.0}
    if np.issubdtype(raw.dtype, np.integer):
        bits = 16 if raw.dtype.itemsize <= 2 or raw.max() > 255 else 8  # Pillow's "I" mode is int32
        scale = 65535.0 if bits == 16 else 255.0
        return raw.astype(np.float32) / scale, {"method": "dtype", "bits": bits, "offset": 0.0, "scale": scale}
    if np.issubdtype(raw.dtype, np.floating):
        return raw.astype(np.float32), {}
    raise DataError(f"{path}: unsupported pixel type {raw.dtype}")


def _read_tiff(path: Path) -> np.ndarray:
    import tifffile

    raw = np.asarray(tifffile.imread(str(path)))
    if raw.ndim == 3 and raw.shape[-1] in (3, 4):
        return raw[..., :3].transpose(2, 0, 1)
    if raw.ndim == 2:
        return raw[None]
    raise DataError(f"{path}: expected a 2D gray or RGB TIFF, got shape {tuple(raw.shape)}")


def _read_pillow(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        if img.mode.startswith("I") or img.mode == "F":
            return np.asarray(img)[None]
        if img.mode in ("L", "1", "LA"):
            return np.asarray(img.convert("L"))[None]
        return np.asarray(img.convert("RGB")).transpose(2, 0, 1)


def read_image(path: Path) -> Volume:
    """A 2D image as ``(C, H, W)`` float32 in [0, 1] (C = 1 gray or 3 RGB)."""
    try:
        raw = _read_tiff(path) if path.suffix.lower() in TIFF_SUFFIXES else _read_pillow(path)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - PIL/tifffile raise many types on bad files
        raise DataError(f"{path}: not a readable image ({type(exc).__name__})") from None
    raw = np.asarray(raw)
    array, norm = _scale_integer(raw, path)
    suffix = path.suffix.lower()
    image_format = "tiff" if suffix in TIFF_SUFFIXES else "jpeg" if suffix in (".jpg", ".jpeg") else suffix[1:]
    meta = {"format": image_format, "dtype": str(raw.dtype), "bits": norm.get("bits", 32)}
    return Volume(np.ascontiguousarray(array, dtype=np.float32), np.eye(4), str(path), norm, meta)


def read_any(path: Path) -> Volume:
    """Dispatch on the name: a folder is a DICOM series; files by suffix (or DICOM preamble)."""
    if path.is_dir():
        return read_dicom(path)
    if is_nifti(path):
        return read_nifti(path)
    if is_image(path):
        return read_image(path)
    suffix = path.suffix.lower()
    if suffix in NUMPY_SUFFIXES:
        return read_numpy(path)
    if suffix in HDF5_SUFFIXES:
        return read_fastmri_image(path)
    if is_dicom_file(path):
        return read_dicom(path)
    raise DataError(f"{path}: unsupported file type (expected {KNOWN})")


def list_data_files(root: Path) -> list[Path]:
    """The readable items under ``root``: files, and folders holding a DICOM series.

    ``root`` may be a file, a DICOM series folder, or a folder searched recursively (each
    folder with DICOM files in it is one series).
    """
    if not root.exists():
        raise DataError(f"{root}: no such file or directory")
    if root.is_file():
        return [root]
    items: list[Path] = []
    for folder in sorted([root, *(p for p in root.rglob("*") if p.is_dir())]):
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if dicom_files(folder):
            items.append(folder)
            files = [p for p in files if not is_dicom_file(p)]
        items += [p for p in files if is_nifti(p) or is_image(p) or is_array_file(p)]
    if not items:
        raise DataError(f"{root}: no NIfTI or image files found (looked for {KNOWN})")
    return sorted(items)


def write_nifti(path: Path, array: np.ndarray, affine: np.ndarray) -> Path:
    """Write a ``(X, Y, Z)`` array with ``affine`` as NIfTI (``.nii`` or ``.nii.gz``)."""
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.asarray(array, dtype=np.float32), affine), str(path))
    return path


def write_image(path: Path, array: np.ndarray) -> Path:
    """Write ``(C, H, W)`` or ``(H, W)`` in [0, 1] as an 8-bit (or 16-bit .tif) image."""
    from PIL import Image

    array = np.clip(np.asarray(array, dtype=np.float32), 0, 1)
    if array.ndim == 3:
        array = array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".tif", ".tiff") and array.ndim == 2:
        Image.fromarray((array * 65535).round().astype(np.uint16)).save(path)
    else:
        Image.fromarray((array * 255).round().astype(np.uint8)).save(path)
    return path
