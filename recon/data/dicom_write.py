"""Write a volume as a DICOM series derived from the input series ("your scans in, your scans out").

:func:`write_dicom_series` writes an output volume ``(X, Y, Z)`` on the grid of a RAS affine
(voxel -> world mm, as ``Volume.affine`` and NIfTI) as one single-frame file per slice, using
the first dataset of the input series (``Volume.meta["dicom"]``, read by
:mod:`recon.data.dicom`) as the template of every file. The geometry inverts the reader's
mapping: ``affine_lps = diag(-1, -1, 1, 1) @ affine``, then ``x`` (column index) runs along
``affine_lps[:3, 0]``, ``y`` (row index) along ``affine_lps[:3, 1]``, slice ``k`` sits at
``affine_lps[:3, 3] + k * affine_lps[:3, 2]``, so recon's reader, MONAI's ``PydicomReader``
and nibabel give ``affine`` back. The output grid may differ from the input's (more rows and
columns, other slices): only the geometry, instance and pixel tags are recomputed.

What each file gets:

- copied from the template: patient, study (``StudyInstanceUID`` kept), equipment and
  acquisition tags, ``Modality``, ``FrameOfReferenceUID`` (the same world frame), windowing
  (the output is in the input's intensity units);
- new: ``SeriesInstanceUID`` (one per series), ``SOPInstanceUID`` =
  ``MediaStorageSOPInstanceUID`` (one per file), ``SeriesNumber`` (template's + 1000),
  ``InstanceNumber`` 1..n in ``z`` order, ``ImageType`` ``DERIVED\\SECONDARY\\...``,
  ``SeriesDescription``, ``DerivationDescription``, series/content/creation date and time;
- from the new grid: ``ImageOrientationPatient``, ``ImagePositionPatient``, ``PixelSpacing``,
  ``Rows``, ``Columns``, ``SpacingBetweenSlices``, ``SliceLocation`` (``IPP . normal``) and
  ``SliceThickness`` (the template's while the slice spacing is unchanged, else the new
  spacing);
- pixels: 16-bit integers, signed as the template (``PixelRepresentation``), its
  ``BitsStored`` (at most 16), Explicit VR Little Endian. ``RescaleSlope``/``Intercept`` are
  the template's when every template slice shares them and the output fits the stored range
  with them (the output is quantised like the input); otherwise they are fitted so the
  output's min..max spans the stored range. Values are rounded to the nearest stored step:
  the decoded value ``stored * slope + intercept`` differs from the float by at most half a
  slope (``slope / 2``, plus float rounding); the clip to the stored range only guards that
  float rounding, since either scale holds every value.

Dropped (they would describe the input's pixels or files, not these): private tags (vendor
headers such as Siemens CSA hold stale geometry), multi-frame and enhanced structure
(functional groups, ``NumberOfFrames``, dimension indices; an enhanced MR/CT/PET template's
SOP class becomes the classic one), icon images, overlays (groups 60xx) and curves (50xx),
pixel statistics and padding values, ``ModalityLUTSequence`` (the rescale replaces it),
``SourceImageSequence``, ``ImagesInAcquisition``, ``InStackPositionNumber``, digital
signatures, and the template's own pixel data.
"""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import numpy as np

from recon.data.dicom import dicom_files
from recon.errors import DataError, UsageError

SERIES_NUMBER_OFFSET = 1000

DROPPED = (
    "PixelData", "FloatPixelData", "DoubleFloatPixelData", "ExtendedOffsetTable", "ExtendedOffsetTableLengths",
    "PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence", "NumberOfFrames", "FrameIncrementPointer",
    "DimensionIndexSequence", "DimensionOrganizationSequence", "IconImageSequence", "SmallestImagePixelValue",
    "LargestImagePixelValue", "SmallestPixelValueInSeries", "LargestPixelValueInSeries", "PixelPaddingValue",
    "PixelPaddingRangeLimit", "ModalityLUTSequence", "PlanarConfiguration", "PixelAspectRatio", "SourceImageSequence",
    "ImagesInAcquisition", "InStackPositionNumber", "DigitalSignaturesSequence", "MACParametersSequence",
    "EncryptedAttributesSequence", "DataSetTrailingPadding",
)

# enhanced / legacy-converted multi-frame SOP classes -> the classic single-frame class
CLASSIC_SOP_CLASS = {
    "1.2.840.10008.5.1.4.1.1.4.1": "1.2.840.10008.5.1.4.1.1.4",  # Enhanced MR -> MR
    "1.2.840.10008.5.1.4.1.1.4.4": "1.2.840.10008.5.1.4.1.1.4",  # Legacy Converted Enhanced MR
    "1.2.840.10008.5.1.4.1.1.2.1": "1.2.840.10008.5.1.4.1.1.2",  # Enhanced CT -> CT
    "1.2.840.10008.5.1.4.1.1.2.2": "1.2.840.10008.5.1.4.1.1.2",  # Legacy Converted Enhanced CT
    "1.2.840.10008.5.1.4.1.1.130": "1.2.840.10008.5.1.4.1.1.128",  # Enhanced PET -> PET
    "1.2.840.10008.5.1.4.1.1.128.1": "1.2.840.10008.5.1.4.1.1.128",  # Legacy Converted Enhanced PET
}
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def _ds(value: float) -> str:
    """A number as a DICOM decimal string (at most 16 characters)."""
    from pydicom.valuerep import format_number_as_ds

    return str(format_number_as_ds(float(value)))


def lps_grid(affine: np.ndarray, slices: int) -> dict[str, Any]:
    """DICOM geometry of a RAS ``affine`` (voxel ``(x=column, y=row, z=slice)`` -> mm).

    Returns ``row_dir``/``col_dir`` (unit LPS directions of increasing column/row index, the
    two halves of ImageOrientationPatient), ``spacing`` (PixelSpacing: ``[between rows,
    between columns]``), ``normal`` (``row_dir x col_dir``), ``step`` (LPS vector between
    slices), ``origin`` (LPS centre of the first pixel of slice 0) and ``slice_spacing``
    (``|step . normal|``, 0 for one slice with no slice axis). Refuses grids DICOM cannot
    store: sheared in-plane axes, or a slice axis inside the image plane.
    """
    affine = np.asarray(affine, dtype=np.float64)
    if affine.shape != (4, 4) or not np.isfinite(affine).all():
        raise UsageError(f"expected a finite (4, 4) affine, got shape {affine.shape}")
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine
    along_row, down_col, step = lps[:3, 0], lps[:3, 1], lps[:3, 2]
    col_spacing, row_spacing = float(np.linalg.norm(along_row)), float(np.linalg.norm(down_col))
    if min(col_spacing, row_spacing) <= 0:
        raise UsageError("the affine has a zero-length in-plane axis")
    row_dir, col_dir = along_row / col_spacing, down_col / row_spacing
    if abs(float(row_dir @ col_dir)) > 1e-4:
        raise UsageError("DICOM cannot store this grid: its in-plane axes are not perpendicular "
                         f"(cosine {float(row_dir @ col_dir):.4g})")
    normal = np.cross(row_dir, col_dir)
    slice_spacing = abs(float(step @ normal))
    if slices > 1 and slice_spacing <= 1e-6 * max(float(np.linalg.norm(step)), 1e-12):
        raise UsageError("DICOM cannot store this grid: its slice axis lies in the image plane")
    return {"row_dir": row_dir, "col_dir": col_dir, "spacing": [row_spacing, col_spacing], "normal": normal,
            "step": step, "origin": lps[:3, 3], "slice_spacing": slice_spacing}


def stored_range(template: Any) -> tuple[np.dtype, int, int, int]:
    """The stored pixel type of the output: ``(dtype, bits stored, min, max)``.

    16 bits allocated, signed as the template (float templates: signed), BitsStored the
    template's when it is at most 16 bits allocated, else 16.
    """
    signed = int(getattr(template, "PixelRepresentation", 0) or 0) == 1 or "FloatPixelData" in template \
        or "DoubleFloatPixelData" in template
    allocated = int(getattr(template, "BitsAllocated", 16) or 16)
    bits = int(getattr(template, "BitsStored", 16) or 16)
    bits = bits if allocated == 16 and 2 <= bits <= 16 else 16
    if signed:
        return np.dtype("<i2"), bits, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return np.dtype("<u2"), bits, 0, 2**bits - 1


def choose_rescale(array: np.ndarray, template: list, qmin: int, qmax: int) -> tuple[str, str]:
    """RescaleSlope and RescaleIntercept (decimal strings) for ``array`` in ``[qmin, qmax]``.

    The template's series-wide pair when every template dataset has the same one and the
    values fit with it; otherwise a pair fitted to ``array``'s min..max (slope rounded up in
    its 16-character form so the max still fits; a constant array gets slope 1).
    """
    pairs = {(str(getattr(ds, "RescaleSlope", "1") or "1").strip(),
              str(getattr(ds, "RescaleIntercept", "0") or "0").strip()) for ds in template}
    if len(pairs) == 1:
        slope, intercept = next(iter(pairs))
        if float(slope) > 0:
            stored = np.rint((array - float(intercept)) / float(slope))
            if stored.min() >= qmin and stored.max() <= qmax:
                return slope, intercept
    lo, hi = float(array.min()), float(array.max())
    slope = _ds((hi - lo) / (qmax - qmin) * (1 + 1e-9)) if hi > lo else "1"
    if float(slope) <= 0:  # a range so small the slope underflows its decimal string
        slope = "1"
    return slope, _ds(lo - qmin * float(slope))


def quantise(array: np.ndarray, slope: str, intercept: str, dtype: np.dtype, qmin: int, qmax: int) -> np.ndarray:
    """``round((array - intercept) / slope)`` clipped to ``[qmin, qmax]``, as ``dtype``.

    Decoding (``stored * slope + intercept``) gives back each unclipped value within
    ``slope / 2`` (plus float rounding).
    """
    stored = np.rint((np.asarray(array, dtype=np.float64) - float(intercept)) / float(slope))
    return np.clip(stored, qmin, qmax).astype(dtype)


def prepare_folder(folder: Path, force: bool) -> None:
    """Create ``folder``; refuse a non-empty one unless ``force`` (then its DICOM files go)."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise UsageError(f"{folder}: output folder is not empty; choose a new or empty folder "
                             f"(or force to replace the DICOM files in it)")
        for path in dicom_files(folder):  # another series left here would make the folder mixed
            path.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def _template_checked(template: list) -> Any:
    """The first template dataset, refused when it is not a grayscale image."""
    if not template:
        raise UsageError("an empty DICOM template: pass the input series' datasets (Volume.meta['dicom'])")
    first = template[0]
    samples = int(getattr(first, "SamplesPerPixel", 1) or 1)
    photometric = str(getattr(first, "PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2")
    if samples != 1 or not photometric.startswith("MONOCHROME"):
        raise UsageError(f"DICOM output needs a grayscale template, not {photometric} with {samples} samples per pixel")
    return first


def _slice_spacing_of(template: list) -> float | None:
    """The template's spacing between slices along its normal (None when unknown)."""
    with_position = [ds for ds in template if "ImagePositionPatient" in ds and "ImageOrientationPatient" in ds]
    if len(with_position) >= 2:
        iop = np.asarray(with_position[0].ImageOrientationPatient, dtype=np.float64)
        normal = np.cross(iop[:3], iop[3:])
        along = sorted(float(np.asarray(ds.ImagePositionPatient, dtype=np.float64) @ normal) for ds in with_position)
        return (along[-1] - along[0]) / (len(along) - 1)
    value = getattr(template[0], "SpacingBetweenSlices", None) or getattr(template[0], "SliceThickness", None)
    return float(value) if value else None


def series_base(template: list, description: str, grid: dict[str, Any], shape: tuple[int, int, int],
                pixels: tuple[int, str, str, bool]) -> Any:
    """The dataset every slice starts from: the template's first dataset with the series-wide
    changes (UIDs, derivation, grid size and spacing, pixel format) made and stale tags dropped.

    ``shape`` is the output ``(X, Y, Z)``; ``pixels`` is ``(bits stored, slope, intercept, signed)``.
    """
    from pydicom.uid import generate_uid

    first = _template_checked(template)
    ds = copy.deepcopy(first)
    ds.remove_private_tags()
    for keyword in DROPPED:
        if keyword in ds:
            delattr(ds, keyword)
    for tag in [t for t in ds.keys() if (t.group & 0xFF00) in (0x6000, 0x5000)]:  # overlays, curves
        del ds[tag]
    now = datetime.datetime.now()
    date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S.%f")
    sop_class = str(getattr(first, "SOPClassUID", "") or SECONDARY_CAPTURE)
    ds.SOPClassUID = CLASSIC_SOP_CLASS.get(sop_class, sop_class)
    ds.StudyInstanceUID = getattr(first, "StudyInstanceUID", None) or generate_uid()
    ds.FrameOfReferenceUID = getattr(first, "FrameOfReferenceUID", None) or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = int(getattr(first, "SeriesNumber", 0) or 0) + SERIES_NUMBER_OFFSET
    ds.SeriesDate = ds.ContentDate = ds.InstanceCreationDate = date
    ds.SeriesTime = ds.ContentTime = ds.InstanceCreationTime = time
    original = getattr(first, "ImageType", None)
    rest = [] if original is None else ([original] if isinstance(original, str) else list(original))[2:]
    ds.ImageType = ["DERIVED", "SECONDARY", *rest]
    ds.SeriesDescription = description[:64]  # LO: at most 64 characters
    ds.DerivationDescription = (f"{description}; {shape[2]} slices of {shape[1]}x{shape[0]}, pixel spacing "
                                f"{_ds(grid['spacing'][0])}\\{_ds(grid['spacing'][1])} mm")[:1024]
    ds.ImageOrientationPatient = [_ds(v) for v in (*grid["row_dir"], *grid["col_dir"])]
    ds.PixelSpacing = [_ds(v) for v in grid["spacing"]]
    ds.Rows, ds.Columns = int(shape[1]), int(shape[0])
    if grid["slice_spacing"] > 0:
        old = _slice_spacing_of(template)
        same = old is not None and abs(abs(old) - grid["slice_spacing"]) <= 1e-4 and "SliceThickness" in first
        ds.SliceThickness = first.SliceThickness if same else _ds(grid["slice_spacing"])
        ds.SpacingBetweenSlices = _ds(grid["slice_spacing"])
    bits, slope, intercept, signed = pixels
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = str(getattr(first, "PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2")
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits, bits - 1, int(signed)
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    return ds


def _file_meta(ds: Any) -> Any:
    """Part 10 file meta information of ``ds``: Explicit VR Little Endian."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def write_dicom_series(folder: Path, array: np.ndarray, affine: np.ndarray, template: list, description: str, *,
                       force: bool = False) -> list[Path]:
    """Write ``array`` as a new DICOM series derived from ``template``; returns the files.

    Args:
        folder: where the files go (created; refused with ``UsageError`` if not empty unless
            ``force``, which deletes the DICOM files already in it).
        array: ``(X, Y, Z)`` float values in the input's intensity units (x = column, y = row,
            z = slice), on the grid of ``affine``.
        affine: ``(4, 4)`` voxel -> world RAS mm, the convention of ``Volume.affine``.
        template: the input series' datasets without pixel data (``Volume.meta["dicom"]``);
            the first one gives every file its tags, whatever the number of slices.
        description: SeriesDescription (cut to 64 characters) and DerivationDescription.
        force: replace the DICOM files of a non-empty ``folder``.

    Files are ``IM0001.dcm``... in ``z`` order (InstanceNumber 1..Z). See the module
    docstring for what is copied, recomputed and dropped, and for the rounding error.
    """
    from pydicom.uid import generate_uid

    array = np.asarray(array)
    if array.ndim != 3 or 0 in array.shape:
        raise UsageError(f"DICOM output expects an (X, Y, Z) volume, got shape {tuple(array.shape)}")
    if not np.isfinite(array).all():
        raise DataError(f"{folder}: the output volume contains NaN or Inf values")
    grid = lps_grid(affine, array.shape[2])
    first = _template_checked(template)
    dtype, bits, qmin, qmax = stored_range(first)
    slope, intercept = choose_rescale(array, template, qmin, qmax)
    stored = quantise(array, slope, intercept, dtype, qmin, qmax)
    base = series_base(template, description, grid, array.shape, (bits, slope, intercept, dtype.kind == "i"))
    prepare_folder(folder, force)
    width = max(4, len(str(array.shape[2])))
    paths: list[Path] = []
    for k in range(array.shape[2]):
        ds = copy.deepcopy(base)
        position = grid["origin"] + k * grid["step"]
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta = _file_meta(ds)
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [_ds(v) for v in position]
        ds.SliceLocation = _ds(float(position @ grid["normal"]))
        ds.PixelData = np.ascontiguousarray(stored[:, :, k].T).tobytes()  # (rows, columns), little endian
        ds["PixelData"].VR = "OW"
        path = folder / f"IM{k + 1:0{width}d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
