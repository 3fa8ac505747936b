"""DICOM in, DICOM out: recon.data.dicom_write against independent readers (pydicom, MONAI, nibabel).

The input series is built here with pydicom: oblique sagittal slices (rotated 12 degrees about
the patient's vertical axis), pixel spacing 0.9 (rows) x 0.8 (columns) mm, 3 mm between
slices, int16 with RescaleSlope 0.5 / intercept -100, files named out of position order, a
private tag and pixel statistics that must not survive. Expected geometry is computed from
the test's own numbers, not from recon's reader.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from recon.data.dicom_write import write_dicom_series
from recon.data.readers import read_any
from recon.errors import UsageError

ROWS, COLS, SLICES = 10, 12, 5
ROW_SPACING, COL_SPACING, SLICE_STEP = 0.9, 0.8, 3.0
SLOPE, INTERCEPT = 0.5, -100.0
ORIGIN_LPS = np.array([-20.5, 31.25, 47.0])
UID_ROOT = "1.2.826.0.1.3680043.8.498."
STUDY_UID, SERIES_UID, FOR_UID = UID_ROOT + "77", UID_ROOT + "78", UID_ROOT + "79"
PATIENT = {"PatientName": "Doe^Jane", "PatientID": "P-0042", "PatientBirthDate": "19700101", "PatientSex": "F",
           "StudyDate": "20240102", "StudyTime": "101500", "StudyDescription": "Brain MRI", "AccessionNumber": "A123",
           "ReferringPhysicianName": "Who^Doctor", "Modality": "MR"}


def _directions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LPS row direction (increasing column), column direction (increasing row), normal."""
    angle = np.deg2rad(12.0)
    rotate = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    row_dir, col_dir = rotate @ np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])  # sagittal: A->P, H->F
    return row_dir, col_dir, np.cross(row_dir, col_dir)


def input_affine() -> np.ndarray:
    """The RAS affine of voxel (column, row, slice) of the series written by :func:`make_series`."""
    row_dir, col_dir, normal = _directions()
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1], lps[:3, 2], lps[:3, 3] = row_dir * COL_SPACING, col_dir * ROW_SPACING, \
        normal * SLICE_STEP, ORIGIN_LPS
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def make_series(folder: Path, implicit: bool = False) -> np.ndarray:
    """Write the input series; returns its values ``(X=columns, Y=rows, Z)`` in rescaled units."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, MRImageStorage, generate_uid

    folder.mkdir(parents=True)
    row_dir, col_dir, normal = _directions()
    stored = np.random.default_rng(3).integers(-400, 3000, size=(COLS, ROWS, SLICES)).astype(np.int16)
    for file_index, z in enumerate([2, 0, 4, 1, 3]):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, ds.file_meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = STUDY_UID, SERIES_UID, FOR_UID
        for key, value in PATIENT.items():
            setattr(ds, key, value)
        ds.SeriesNumber, ds.InstanceNumber, ds.SeriesDescription = 7, z + 1, "t1_sag"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
        ds.ImageOrientationPatient = [float(v) for v in (*row_dir, *col_dir)]
        ds.ImagePositionPatient = [float(v) for v in ORIGIN_LPS + z * SLICE_STEP * normal]
        ds.PixelSpacing = [ROW_SPACING, COL_SPACING]
        ds.SliceThickness, ds.SpacingBetweenSlices = 2.5, SLICE_STEP
        ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = ROWS, COLS, 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = SLOPE, INTERCEPT
        ds.WindowCenter, ds.WindowWidth = 600, 1200
        ds.LargestImagePixelValue = int(stored[:, :, z].max())
        ds.add_new(0x00291010, "OB", b"stale vendor geometry")  # a private tag (no creator: still private)
        ds.PixelData = np.ascontiguousarray(stored[:, :, z].T).astype("<i2").tobytes()
        ds.save_as(folder / f"img{file_index}.dcm", enforce_file_format=True)
    return stored.astype(np.float64) * SLOPE + INTERCEPT


def finer(affine: np.ndarray, scale: int, axes: tuple[int, ...]) -> np.ndarray:
    """The affine ``scale`` times finer along ``axes`` over the same extent (as recon_superres's)."""
    transform = np.eye(4)
    for axis in axes:
        transform[axis, axis], transform[axis, 3] = 1.0 / scale, (1.0 / scale - 1.0) / 2.0
    return affine @ transform


def read_pydicom(folder: Path) -> list:
    """Every written file with pydicom, in InstanceNumber order."""
    import pydicom

    datasets = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    return sorted(datasets, key=lambda ds: int(ds.InstanceNumber))


@pytest.fixture()
def series(tmp_path: Path) -> tuple[Path, np.ndarray]:
    folder = tmp_path / "in"
    return folder, make_series(folder)


def test_reader_keeps_headers_and_affine_matches_the_dicom_geometry(series: tuple[Path, np.ndarray]) -> None:
    folder, values = series
    volume = read_any(folder)
    np.testing.assert_allclose(volume.affine, input_affine(), atol=1e-6)
    np.testing.assert_allclose(volume.array[0], values, atol=1e-3)
    assert volume.meta["format"] == "dicom" and volume.meta["dtype"] == "int16" and volume.meta["bits"] == 16
    headers = volume.meta["dicom"]
    assert [int(ds.InstanceNumber) for ds in headers] == [1, 2, 3, 4, 5]  # volume z order (by position)
    assert all("PixelData" not in ds for ds in headers)


@pytest.mark.parametrize("axes", [(0, 1), (2,)], ids=["in_plane_x2", "slices_x2"])
def test_finer_grid_written_and_read_back_by_independent_readers(series: tuple[Path, np.ndarray], tmp_path: Path,
                                                                 axes: tuple[int, ...]) -> None:
    folder, values = series
    volume = read_any(folder)
    affine = finer(volume.affine, 2, axes)
    output = values
    for axis in axes:
        output = np.repeat(output, 2, axis=axis)
    output = output + np.random.default_rng(0).uniform(-0.4, 0.4, output.shape)  # not on the input's steps
    description = "recon mri_superres x2 (model test)"
    paths = write_dicom_series(tmp_path / "out", output, affine, volume.meta["dicom"], description)
    assert len(paths) == output.shape[2]

    # pydicom: tags
    written = read_pydicom(tmp_path / "out")
    inputs = volume.meta["dicom"]
    assert len({ds.SeriesInstanceUID for ds in written}) == 1 and written[0].SeriesInstanceUID != SERIES_UID
    sops = [ds.SOPInstanceUID for ds in written]
    assert len(set(sops)) == len(sops) and not set(sops) & {ds.SOPInstanceUID for ds in inputs}
    assert all(ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID for ds in written)
    assert all(ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1" for ds in written)
    first = written[0]
    assert first.StudyInstanceUID == STUDY_UID and first.FrameOfReferenceUID == FOR_UID
    assert all(str(first[key].value) == value for key, value in PATIENT.items())
    assert list(first.ImageType[:2]) == ["DERIVED", "SECONDARY"] and list(first.ImageType[2:]) == ["M", "ND"]
    assert first.SeriesDescription == description and description in first.DerivationDescription
    assert int(first.SeriesNumber) == 1007
    assert [int(ds.InstanceNumber) for ds in written] == list(range(1, len(paths) + 1))
    assert "LargestImagePixelValue" not in first and not any(tag.is_private for tag in first.keys())
    assert (first.BitsAllocated, first.BitsStored, first.PixelRepresentation) == (16, 16, 1)

    # pydicom: geometry equals the expected grid (LPS)
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine
    row_dir, col_dir, _ = _directions()
    for k, ds in enumerate(written):
        np.testing.assert_allclose(np.asarray(ds.ImagePositionPatient, float), lps[:3, 3] + k * lps[:3, 2], atol=1e-4)
        np.testing.assert_allclose(np.asarray(ds.ImageOrientationPatient, float), [*row_dir, *col_dir], atol=1e-6)
        np.testing.assert_allclose(np.asarray(ds.PixelSpacing, float), [np.linalg.norm(lps[:3, 1]),
                                                                         np.linalg.norm(lps[:3, 0])], atol=1e-4)
        assert (ds.Rows, ds.Columns) == (output.shape[1], output.shape[0])
    expected_spacing = SLICE_STEP / (2 if 2 in axes else 1)
    assert float(first.SpacingBetweenSlices) == pytest.approx(expected_spacing, abs=1e-4)
    assert float(first.SliceThickness) == pytest.approx(2.5 if 2 not in axes else expected_spacing, abs=1e-4)
    slope = float(first.RescaleSlope)
    stacked = np.stack([ds.pixel_array.T * slope + float(ds.RescaleIntercept) for ds in written], axis=-1)
    assert np.abs(stacked - output).max() <= slope / 2 + 1e-6

    # MONAI's PydicomReader (sorts by InstanceNumber, RAS affine): the whole series
    from monai.transforms import LoadImage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = LoadImage(image_only=True, reader="PydicomReader")(str(tmp_path / "out"))
    np.testing.assert_allclose(np.asarray(image.affine, dtype=np.float64), affine, atol=1e-4)
    assert np.abs(np.asarray(image) - output).max() <= slope / 2 + 1e-3

    # nibabel's DICOM wrapper: per-slice LPS affine of voxel (row, column, slice)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nibabel: "DICOM readers are highly experimental"
        from nibabel.nicom import dicomwrappers

    for k in (0, len(written) - 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wrapper = dicomwrappers.wrapper_from_data(written[k])
            nib_affine = np.asarray(wrapper.affine)
        np.testing.assert_allclose(nib_affine[:3, 0], lps[:3, 1], atol=1e-4)  # rows: our y
        np.testing.assert_allclose(nib_affine[:3, 1], lps[:3, 0], atol=1e-4)  # columns: our x
        np.testing.assert_allclose(nib_affine[:3, 3], lps[:3, 3] + k * lps[:3, 2], atol=1e-4)

    # recon's own reader: the grid and values back within one rescale step
    back = read_any(tmp_path / "out")
    np.testing.assert_allclose(back.affine, affine, atol=1e-4)
    assert np.abs(back.array[0] - output).max() <= slope
    assert back.meta["dtype"] == "int16" and len(back.meta["dicom"]) == output.shape[2]


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit_vr", "implicit_vr"])
def test_same_grid_round_trip_within_half_a_slope_step(tmp_path: Path, implicit: bool) -> None:
    values = make_series(tmp_path / "in", implicit=implicit)
    volume = read_any(tmp_path / "in")
    write_dicom_series(tmp_path / "out", volume.array[0], volume.affine, volume.meta["dicom"], "same grid")
    back = read_any(tmp_path / "out")
    assert float(read_pydicom(tmp_path / "out")[0].RescaleSlope) == SLOPE  # the input's scale fits: kept
    np.testing.assert_allclose(back.affine, volume.affine, atol=1e-6)
    assert np.abs(back.array[0] - values).max() <= SLOPE / 2


def test_values_beyond_the_input_scale_get_a_fitted_rescale(series: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    folder, values = series
    volume = read_any(folder)
    output = values * 40.0 + 0.123  # beyond int16 at slope 0.5
    write_dicom_series(tmp_path / "out", output, volume.affine, volume.meta["dicom"], "fitted")
    slope = float(read_pydicom(tmp_path / "out")[0].RescaleSlope)
    assert slope != SLOPE
    back = read_any(tmp_path / "out")
    assert np.abs(back.array[0] - output).max() <= slope / 2 * (1 + 1e-6) + 1e-3  # float32 of ~1e5 values


def test_non_empty_output_folder_refused_unless_force(series: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    folder, values = series
    volume = read_any(folder)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not empty"):
        write_dicom_series(out, values, volume.affine, volume.meta["dicom"], "x")
    assert len(write_dicom_series(out, values, volume.affine, volume.meta["dicom"], "x", force=True)) == SLICES
    write_dicom_series(out, values[:, :, :3], volume.affine, volume.meta["dicom"], "y", force=True)
    assert (out / "notes.txt").exists() and len(list(out.glob("*.dcm"))) == 3  # the old series' files went
    assert read_any(out).array.shape == (1, COLS, ROWS, 3)


def test_grids_dicom_cannot_store_are_refused(series: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    folder, values = series
    volume = read_any(folder)
    sheared = volume.affine.copy()
    sheared[:3, 1] += 0.3 * sheared[:3, 0]
    with pytest.raises(UsageError, match="not perpendicular"):
        write_dicom_series(tmp_path / "a", values, sheared, volume.meta["dicom"], "x")
    with pytest.raises(UsageError, match="empty DICOM template"):
        write_dicom_series(tmp_path / "b", values, volume.affine, [], "x")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
