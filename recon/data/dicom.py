"""DICOM: a folder holding one series -> a Volume sorted by slice position (RAS affine).

Read with pydicom. MONAI's ``PydicomReader`` is not used for series because it sorts
slices by ``InstanceNumber`` (not by position along the slice normal) and only warns about
slices of another shape or series; here a folder with several ``SeriesInstanceUID`` values,
slices of different sizes or duplicated positions is refused with a ``DataError`` naming
the folder. The affine follows the DICOM formula (nibabel's "DICOM orientation" notes):
voxel ``(x, y, z)`` = column ``x``, row ``y`` of slice ``z``, then LPS -> RAS.
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
        if pixels.ndim == 2:
            return Volume(pixels[None], np.eye(4), str(path))
        if pixels.ndim == 3 and int(getattr(ds, "SamplesPerPixel", 1)) == 1:  # multi-frame
            row_dir, col_dir, ipp, spacing = _geometry(ds)
            thickness = float(getattr(ds, "SpacingBetweenSlices", getattr(ds, "SliceThickness", 1.0)) or 1.0)
            affine = _affine(row_dir, col_dir, ipp, spacing, np.cross(row_dir, col_dir) * thickness)
            return Volume(np.ascontiguousarray(pixels.transpose(2, 1, 0))[None], affine, str(path))
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
    first = dict(headers)[keyed[0][1]]
    last = dict(headers)[keyed[-1][1]]
    if has_position:
        step = (_geometry(last)[2] - _geometry(first)[2]) / (len(keyed) - 1)
        origin = _geometry(first)[2]
    else:
        step, origin = normal, np.zeros(3)
    return Volume(np.ascontiguousarray(volume)[None], _affine(row_dir, col_dir, origin, spacing, step), str(folder))
