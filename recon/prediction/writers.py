"""Write a prediction in its input's format: geometry, pixel type, bit depth and headers kept.

Values reach the writers in the input file's own intensity units (the preparation for the
model undone, :func:`recon.data.volume.denormalize`), or in [0, 1] when the task's output has
no such units (``unit_range=True``: e.g. a synthesised contrast), which then span the full
range of an integer output type.

* NIfTI: the input's header is the template (qform/sform codes, units, intent, TR...); the
  affine is the output grid's; ``descrip`` says what recon did, then the input's description. An integer input stays
  integer: nibabel chooses ``scl_slope``/``scl_inter`` so the float values fit the type (at
  most half a slope step of rounding). Unit-range outputs are written as float32.
* PNG/TIFF/BMP: the input's bit depth (8 or 16 bits; float TIFF stays float32). JPEG is
  8-bit. Pillow writes 16-bit gray PNG only: a 16-bit RGB output to PNG is refused (use .tif).
* DICOM: a new derived series beside the input's (:func:`recon.data.dicom_write.write_dicom_series`).

Every file is written to a temporary name in the output's folder and renamed, so an output
is either complete or absent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from recon.data.readers import IMAGE_SUFFIXES, TIFF_SUFFIXES, is_image, is_nifti
from recon.data.volume import Volume
from recon.errors import UsageError

__all__ = ["write_like", "output_kind", "atomic_write"]


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """``write(tmp)`` to a temporary file beside ``path`` (same suffixes), then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes[-2:]) if path.name.lower().endswith(".nii.gz") else path.suffix
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def output_kind(output: Path, like: Volume) -> str:
    """``nifti``, ``image`` or ``dicom`` for an output path, refusing one that cannot hold the
    input's kind of data (a volume into a PNG, an image into NIfTI...)."""
    source_format = like.meta.get("format", "")
    volume = like.spatial_dims == 3
    if is_nifti(output):
        if not volume:
            raise UsageError(f"-o {output}: a 2D image input needs an image output ({', '.join(IMAGE_SUFFIXES)})")
        return "nifti"
    if is_image(output):
        if volume:
            raise UsageError(f"-o {output}: a 3D input needs a .nii/.nii.gz output"
                             + (" or a folder (a DICOM series)" if source_format == "dicom" else ""))
        return "image"
    if source_format == "dicom" and not output.suffix:
        return "dicom"
    wanted = "a .nii/.nii.gz file" + (" or a folder for a DICOM series" if source_format == "dicom" else "") \
        if volume else f"an image file ({', '.join(IMAGE_SUFFIXES)})"
    raise UsageError(f"-o {output}: unsupported output; a {like.spatial_dims}D input needs {wanted}")


def write_like(output: Path, values: np.ndarray, affine: np.ndarray, like: Volume, note: str,
               unit_range: bool = False) -> Path:
    """Write ``values`` (``(C, X, Y, Z)`` or ``(C, H, W)``) on the grid ``affine`` to ``output``,
    in the format ``like`` (the input as read) came in. Returns the path written."""
    kind = output_kind(output, like)
    if kind == "nifti":
        return atomic_write(output, lambda tmp: _write_nifti(tmp, values[0] if values.ndim == 4 else values,
                                                             affine, like, note, unit_range))
    if kind == "dicom":
        from recon.data.dicom_write import write_dicom_series

        array = values[0] if values.ndim == 4 else values
        if unit_range:
            array = array * _type_max(like.meta.get("dtype", "int16"))
        # the caller decided about an existing output (recon predict: only with --force)
        write_dicom_series(output, array, affine, like.meta["dicom"], note, force=True)
        return output
    return atomic_write(output, lambda tmp: _write_image(tmp, output, values, like, unit_range))


def _type_max(dtype_name: str) -> float:
    dtype = np.dtype(dtype_name)
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def _write_nifti(path: Path, array: np.ndarray, affine: np.ndarray, like: Volume, note: str,
                 unit_range: bool) -> None:
    import nibabel as nib

    template = like.meta.get("nifti_header")
    header = template.copy() if template is not None else nib.Nifti1Header()
    data = np.asarray(array, dtype=np.float32)
    dtype = np.dtype(like.meta.get("dtype", "float32"))
    if unit_range or not np.issubdtype(dtype, np.integer):
        dtype = np.dtype(np.float32)
    header.set_data_dtype(dtype)
    image = nib.Nifti1Image(data, affine, header=header)
    sform_code = int(template["sform_code"]) if template is not None else 0
    qform_code = int(template["qform_code"]) if template is not None else 0
    image.set_sform(affine, code=sform_code or 2)  # 2: aligned to another image (the input)
    image.set_qform(affine, code=qform_code or 1)  # 1: scanner anatomical
    original = bytes(template["descrip"]).rstrip(b"\0").decode("ascii", "replace") if template is not None else ""
    image.header["descrip"] = (f"{note} | {original}" if original else note).encode("ascii", "replace")[:79]
    if np.issubdtype(dtype, np.integer):
        image.header.set_slope_inter(None, None)  # nibabel fits scl_slope / scl_inter to the values
    nib.save(image, str(path))


def _write_image(path: Path, output: Path, values: np.ndarray, like: Volume, unit_range: bool) -> None:
    from PIL import Image

    array = np.asarray(values, dtype=np.float32)
    if array.ndim == 3:
        array = array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)
    suffix = output.suffix.lower()
    source = np.dtype(like.meta.get("dtype", "uint8"))
    target: np.dtype[Any]
    if suffix in (".jpg", ".jpeg"):
        target = np.dtype(np.uint8)
    elif np.issubdtype(source, np.floating):
        target = np.dtype(np.float32) if suffix in TIFF_SUFFIXES else np.dtype(np.uint16)
    else:
        target = np.dtype(np.uint16) if like.meta.get("bits", 8) == 16 else np.dtype(np.uint8)
    scale = _unit_scale(like, target, unit_range)
    stored = array * scale
    if np.issubdtype(target, np.integer):
        info = np.iinfo(target)
        stored = np.clip(np.round(stored), info.min, info.max).astype(target)
    else:
        stored = stored.astype(target)
    if suffix in TIFF_SUFFIXES:
        import tifffile

        tifffile.imwrite(str(path), stored)
        return
    if target == np.uint16 and stored.ndim == 3:
        raise UsageError(f"-o {output}: a 16-bit RGB image cannot be written as {suffix}; use .tif")
    Image.fromarray(stored).save(path, format=_pil_format(suffix))


def _unit_scale(like: Volume, target: np.dtype, unit_range: bool) -> float:
    """Factor from the values handed to the writer (the file's own units, or [0, 1] with
    ``unit_range`` or a float source) to the stored type's units."""
    if not np.issubdtype(target, np.integer):
        return 1.0
    source = np.dtype(like.meta.get("dtype", "uint8"))
    if unit_range or not np.issubdtype(source, np.integer):
        return float(np.iinfo(target).max)
    source_max = 65535.0 if like.meta.get("bits", 8) == 16 else 255.0
    return float(np.iinfo(target).max) / source_max


def _pil_format(suffix: str) -> Any:
    return {".png": "PNG", ".bmp": "BMP", ".jpg": "JPEG", ".jpeg": "JPEG"}.get(suffix)
