"""Read and write images and volumes; every failure is a DataError naming the file.

NIfTI goes through MONAI's ``LoadImage`` (nibabel backend, affine kept) and is written with
MONAI's ``NiftiSaver`` path (``nibabel`` under the hood). 2D images (PNG/JPEG/TIFF) are read
with Pillow, 8 or 16 bit, gray or RGB, and scaled to [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recon.data.volume import Volume
from recon.errors import DataError

NIFTI_SUFFIXES = (".nii", ".nii.gz")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_nifti(path: Path) -> Volume:
    """A NIfTI file as a ``(1, X, Y, Z)`` float32 Volume with its affine."""
    from monai.transforms import LoadImage

    try:
        data = LoadImage(image_only=True, reader="NibabelReader", dtype=np.float32)(str(path))
        array = np.asarray(data, dtype=np.float32)
        affine = np.asarray(data.affine, dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - nibabel/gzip/monai raise many types
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: not a readable NIfTI file ({reason})") from None
    if array.ndim == 2:
        array = array[None, :, :, None]
    elif array.ndim == 3:
        array = array[None]
    elif array.ndim == 4 and array.shape[-1] == 1:
        array = array[None, ..., 0]
    else:
        raise DataError(f"{path}: expected a 3D volume, got shape {tuple(array.shape)}")
    return Volume(array, affine, str(path))


def read_image(path: Path) -> Volume:
    """A 2D image as ``(C, H, W)`` float32 in [0, 1] (C = 1 gray or 3 RGB)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            mode = img.mode
            if mode.startswith("I"):  # 16-bit (or 32-bit integer) gray
                raw = np.asarray(img, dtype=np.float32)
                array = (raw / (65535.0 if raw.max() > 255 else 255.0))[None]
            elif mode in ("L", "1", "LA"):
                array = np.asarray(img.convert("L"), dtype=np.float32)[None] / 255.0
            else:
                array = np.asarray(img.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{path}: not a readable image ({type(exc).__name__})") from None
    return Volume(np.ascontiguousarray(array), np.eye(4), str(path))


def read_any(path: Path) -> Volume:
    """Dispatch on the file name: NIfTI or a 2D image."""
    if is_nifti(path):
        return read_nifti(path)
    if is_image(path):
        return read_image(path)
    raise DataError(f"{path}: unsupported file type (expected NIfTI or PNG/JPEG/TIFF)")


def list_data_files(root: Path) -> list[Path]:
    """The readable files under ``root`` (a file or a folder, searched recursively)."""
    if not root.exists():
        raise DataError(f"{root}: no such file or directory")
    if root.is_file():
        return [root]
    files = sorted(p for p in root.rglob("*") if p.is_file() and (is_nifti(p) or is_image(p)))
    if not files:
        raise DataError(f"{root}: no NIfTI or image files found")
    return files


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
