"""DICOM: a folder holding one series -> a Volume sorted by slice position (RAS affine).

Read with pydicom. MONAI's ``PydicomReader`` is not used for series because it sorts
slices by ``InstanceNumber`` (not by position along the slice normal) and only warns about
slices of another shape or series; here a folder with several ``SeriesInstanceUID`` values,
slices of different sizes or duplicated positions is refused with a ``DataError`` naming
the folder. The affine follows the DICOM formula (nibabel's "DICOM orientation" notes):
voxel ``(x, y, z)`` = column ``x``, row ``y`` of slice ``z``, then LPS -> RAS.

Geometry, exactly (``IOP`` = ImageOrientationPatient, ``IPP`` = ImagePositionPatient,
``PS`` = PixelSpacing ``[between rows, between columns]``, all in DICOM's LPS patient frame)::

    affine_lps[:3, 0] = IOP[:3] * PS[1]   # x: along a row (increasing column index)
    affine_lps[:3, 1] = IOP[3:] * PS[0]   # y: down a column (increasing row index)
    affine_lps[:3, 2] = (IPP_last - IPP_first) / (n - 1)   # z: slice step
    affine_lps[:3, 3] = IPP_first         # centre of the first pixel of the first slice
    affine = diag(-1, -1, 1, 1) @ affine_lps   # RAS, as NIfTI and MONAI use

Slices are sorted by ``IPP . (IOP[:3] x IOP[3:])`` ascending, so ``z`` runs along the
slice normal. :mod:`recon.data.dicom_write` inverts this mapping.

``Volume.meta`` of a DICOM read: ``format = "dicom"``, ``dtype`` (the stored pixel type,
``"int16"``, ``"uint16"`` ...), ``bits`` (BitsStored) and ``dicom``: the datasets without
pixel data, one per slice in the volume's ``z`` order (one dataset for a single file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recon.data.volume import Volume
from recon.errors import DataError

DICOM_SUFFIXES = (".dcm", ".dicom", ".ima")


def is_dicom_file(path: Path) -> bool:
    """A ``.dcm``/``.ima`` file, or a suffix-less file with the ``DICM`` preamble marker."""
    suffix = path.suffix.lower()
    if suffix in DICOM_SUFFIXES:
        return True
    if suffix:
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def _read(path: Path, stop_before_pixels: bool = False):  # noqa: ANN202 - a pydicom Dataset
    import pydicom

    try:
        return pydicom.dcmread(str(path), stop_before_pixels=stop_before_pixels)
    except Exception as exc:  # noqa: BLE001 - pydicom raises many types on bad files
        raise DataError(f"{path}: not a readable DICOM file ({type(exc).__name__})") from None


def _stored_dtype(ds) -> str:  # noqa: ANN001
    """The numpy name of the stored pixel type: ``int16``/``uint16`` ..., or ``float32``/``float64``."""
    if "FloatPixelData" in ds:
        return "float32"
    if "DoubleFloatPixelData" in ds:
        return "float64"
    allocated = int(getattr(ds, "BitsAllocated", 16) or 16)
    bits = 8 if allocated <= 8 else 16 if allocated <= 16 else 32
    return f"{'int' if int(getattr(ds, 'PixelRepresentation', 0) or 0) else 'uint'}{bits}"


def _meta(headers: list) -> dict:
    """``Volume.meta`` of DICOM datasets without pixel data (in the volume's slice order)."""
    first = headers[0]
    bits = int(getattr(first, "BitsStored", 0) or getattr(first, "BitsAllocated", 16) or 16)
    return {"format": "dicom", "dtype": _stored_dtype(first), "bits": bits, "dicom": headers}


def _pixels(ds, path: Path) -> np.ndarray:  # noqa: ANN001
    try:
        array = np.asarray(ds.pixel_array, dtype=np.float32)
    except Exception as exc:  # noqa: BLE001 - missing pixel data / unsupported compression
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: DICOM pixel data cannot be decoded ({reason})") from None
    slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
    return array * slope + intercept


def _geometry(ds) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # noqa: ANN001
    """Row direction, column direction, position and (row, column) spacing of a slice."""
    iop = np.asarray(getattr(ds, "ImageOrientationPatient", [1, 0, 0, 0, 1, 0]), dtype=np.float64)
    ipp = np.asarray(getattr(ds, "ImagePositionPatient", [0, 0, 0]), dtype=np.float64)
    spacing = np.asarray(getattr(ds, "PixelSpacing", [1, 1]), dtype=np.float64)
    return iop[:3], iop[3:], ipp, spacing


def _affine(row_dir: np.ndarray, col_dir: np.ndarray, origin: np.ndarray, spacing: np.ndarray,
            step: np.ndarray) -> np.ndarray:
    """RAS affine of voxel (column, row, slice) from DICOM's LPS geometry."""
    lps = np.eye(4)
    lps[:3, 0] = row_dir * spacing[1]  # moving along a row: increasing column index
    lps[:3, 1] = col_dir * spacing[0]  # moving down a column: increasing row index
    lps[:3, 2] = step
    lps[:3, 3] = origin
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def dicom_files(folder: Path) -> list[Path]:
    """The DICOM files directly inside ``folder`` (not recursive), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and is_dicom_file(p))


def read_dicom(path: Path) -> Volume:
    """A DICOM series folder -> ``(1, X, Y, Z)``; a single 2D file -> ``(1, H, W)``."""
    if path.is_file():
        ds = _read(path)
        pixels = _pixels(ds, path)
        meta = _meta([_read(path, stop_before_pixels=True)])  # the header again: no pixel cache kept
        if pixels.ndim == 2:
            return Volume(pixels[None], np.eye(4), str(path), meta=meta)
        if pixels.ndim == 3 and int(getattr(ds, "SamplesPerPixel", 1)) == 1:  # multi-frame
            row_dir, col_dir, ipp, spacing = _geometry(ds)
            thickness = float(getattr(ds, "SpacingBetweenSlices", getattr(ds, "SliceThickness", 1.0)) or 1.0)
            affine = _affine(row_dir, col_dir, ipp, spacing, np.cross(row_dir, col_dir) * thickness)
            return Volume(np.ascontiguousarray(pixels.transpose(2, 1, 0))[None], affine, str(path), meta=meta)
        raise DataError(f"{path}: unsupported DICOM pixel layout {tuple(pixels.shape)} (colour DICOM)")
    return read_dicom_series(path)


def read_dicom_series(folder: Path) -> Volume:
    """The single series in ``folder``, slices sorted by position along the slice normal."""
    files = dicom_files(folder)
    if not files:
        raise DataError(f"{folder}: no DICOM files")
    headers = [(f, _read(f, stop_before_pixels=True)) for f in files]
    series = sorted({str(getattr(ds, "SeriesInstanceUID", "")) for _, ds in headers})
    if len(series) > 1:
        raise DataError(f"{folder}: mixed DICOM series ({len(series)} SeriesInstanceUIDs: "
                        f"{', '.join(s[-12:] or '?' for s in series[:3])}{'...' if len(series) > 3 else ''}); "
                        f"put each series in its own folder")
    if len(headers) == 1:
        return read_dicom(files[0])
    row_dir, col_dir, _, spacing = _geometry(headers[0][1])
    normal = np.cross(row_dir, col_dir)
    has_position = all(hasattr(ds, "ImagePositionPatient") for _, ds in headers)
    if has_position:
        keyed = [(float(np.dot(_geometry(ds)[2], normal)), f) for f, ds in headers]
    else:  # no geometry: fall back to the instance number, unit slice spacing
        keyed = [(float(getattr(ds, "InstanceNumber", i)), f) for i, (f, ds) in enumerate(headers)]
    keyed.sort(key=lambda item: item[0])
    positions = np.array([k for k, _ in keyed])
    if np.any(np.diff(positions) == 0):
        dup = next(f for (a, f), (b, _) in zip(keyed[1:], keyed[:-1], strict=True) if a == b)
        raise DataError(f"{folder}: two slices at the same position ({dup.name}); is this one series?")
    slices: list[np.ndarray] = []
    for _, f in keyed:
        pixels = _pixels(_read(f), f)
        if pixels.ndim != 2:
            raise DataError(f"{f}: expected a 2D slice in a series, got shape {tuple(pixels.shape)}")
        if slices and pixels.shape != slices[0].shape:
            raise DataError(f"{folder}: slices of different sizes ({f.name} is {pixels.shape[0]}x{pixels.shape[1]}, "
                            f"others {slices[0].shape[0]}x{slices[0].shape[1]})")
        slices.append(pixels)
    volume = np.stack(slices, axis=-1).transpose(1, 0, 2)  # (rows, cols, z) -> (x=col, y=row, z)
    by_file = dict(headers)
    ordered = [by_file[f] for _, f in keyed]  # headers (no pixel data) in z order
    first, last = ordered[0], ordered[-1]
    if has_position:
        step = (_geometry(last)[2] - _geometry(first)[2]) / (len(keyed) - 1)
        origin = _geometry(first)[2]
    else:
        step, origin = normal, np.zeros(3)
    return Volume(np.ascontiguousarray(volume)[None], _affine(row_dir, col_dir, origin, spacing, step), str(folder),
                  meta=_meta(ordered))
