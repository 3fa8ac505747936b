"""Readers: NIfTI, DICOM series, PNG/TIFF 8/16 bit, NumPy, fastMRI HDF5; orientation, spacing, norms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recon.data.preprocess import LoadOptions, prepare, reorient, resample_spacing
from recon.data.readers import list_data_files, read_any
from recon.data.volume import denormalize
from recon.errors import DataError
from tests.data.helpers import phantom_volume, write_dicom_series, write_fastmri, write_nifti, write_png


def test_dicom_series_sorted_by_position_not_by_name_or_instance(tmp_path: Path) -> None:
    volume = phantom_volume((24, 20, 6), seed=3)
    nz = volume.shape[2]
    folder = write_dicom_series(tmp_path / "series", volume, order=[3, 0, 5, 1, 4, 2],
                                instance_numbers=list(range(nz, 0, -1)))
    read = read_any(folder)
    assert read.array.shape == (1, 24, 20, 6)
    expected = np.clip(volume / volume.max() * 4000, 0, 65535).astype(np.uint16).astype(np.float32)
    np.testing.assert_array_equal(read.array[0], expected)
    # voxel (x, y, z) -> RAS: LPS x/y flipped, z at 2 mm
    np.testing.assert_allclose(read.affine @ [1, 2, 3, 1], [-1, -2, 6, 1])


def test_dicom_mixed_series_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    write_dicom_series(folder, phantom_volume((16, 16, 3)), series_uid="1.2.3.1")
    write_dicom_series(tmp_path / "b", phantom_volume((16, 16, 3)), series_uid="1.2.3.2")
    for i, f in enumerate(sorted((tmp_path / "b").iterdir())):
        f.rename(folder / f"other{i}.dcm")
    with pytest.raises(DataError, match=r"mixed.*mixed DICOM series \(2 SeriesInstanceUIDs"):
        read_any(folder)


def test_folder_listing_finds_series_and_files(tmp_path: Path) -> None:
    write_dicom_series(tmp_path / "root" / "s1", phantom_volume((16, 16, 3)))
    write_nifti(tmp_path / "root" / "a.nii.gz", phantom_volume((16, 16, 8)))
    np.save(tmp_path / "root" / "b.npy", np.ones((8, 8)))
    (tmp_path / "root" / "notes.txt").write_text("not data")
    items = list_data_files(tmp_path / "root")
    assert [p.name for p in items] == ["a.nii.gz", "b.npy", "s1"]


@pytest.mark.parametrize("bits,rgb", [(8, False), (8, True), (16, False)])  # 16-bit RGB: the TIFF test
def test_png_bit_depths(tmp_path: Path, bits: int, rgb: bool) -> None:
    rng = np.random.default_rng(0)
    image = rng.random((12, 10, 3) if rgb else (12, 10))
    volume = read_any(write_png(tmp_path / "x.png", image, bits))
    assert volume.array.shape == ((3, 12, 10) if rgb else (1, 12, 10))
    expected = image.transpose(2, 0, 1) if rgb else image[None]
    np.testing.assert_allclose(volume.array, expected, atol=0.5 / (2**bits - 1) + 1e-6)
    assert volume.norm["bits"] == bits


def test_tiff_16bit_rgb(tmp_path: Path) -> None:
    import tifffile

    raw = (np.random.default_rng(1).random((9, 7, 3)) * 65535).astype(np.uint16)
    tifffile.imwrite(tmp_path / "x.tif", raw)
    volume = read_any(tmp_path / "x.tif")
    np.testing.assert_allclose(volume.array, raw.transpose(2, 0, 1) / 65535.0, rtol=1e-6)


def test_numpy_and_npz(tmp_path: Path) -> None:
    cube = np.random.default_rng(0).random((5, 6, 7)).astype(np.float32)
    np.save(tmp_path / "v.npy", cube)
    np.savez(tmp_path / "v.npz", image=cube, mask=cube > 0.5)
    assert np.array_equal(read_any(tmp_path / "v.npy").array[0], cube)
    assert np.array_equal(read_any(tmp_path / "v.npz").array[0], cube)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="obj.npy: not a readable NumPy file"):
        read_any(tmp_path / "obj.npy")


@pytest.mark.parametrize("key", ["reconstruction_esc", "reconstruction_rss"])
def test_fastmri_reference_images(tmp_path: Path, key: str) -> None:
    target = np.random.default_rng(0).random((4, 16, 12)).astype(np.float32)
    volume = read_any(write_fastmri(tmp_path / "f.h5", target, key))
    assert volume.array.shape == (1, 16, 12, 4)
    np.testing.assert_array_equal(volume.array[0, :, :, 2], target[2])


def test_fastmri_without_reconstruction(tmp_path: Path) -> None:
    import h5py

    with h5py.File(tmp_path / "k.h5", "w") as f:
        f.create_dataset("kspace", data=np.zeros((2, 8, 8), np.complex64))
    with pytest.raises(DataError, match="k.h5: no reconstruction_rss or reconstruction_esc"):
        read_any(tmp_path / "k.h5")


def test_reorientation_to_ras(tmp_path: Path) -> None:
    volume = phantom_volume((10, 12, 8), seed=2)
    las = np.diag([-1.0, 1.0, 1.0, 1.0])  # x runs right-to-left in the file
    read = read_any(write_nifti(tmp_path / "las.nii.gz", volume, las))
    ras = reorient(read, "RAS")
    np.testing.assert_array_equal(ras.array[0], volume[::-1])
    assert ras.affine[0, 0] > 0
    np.testing.assert_allclose(ras.affine @ [0, 0, 0, 1], read.affine @ [9, 0, 0, 1])  # same world point


def test_resampling_to_a_spacing(tmp_path: Path) -> None:
    read = read_any(write_nifti(tmp_path / "v.nii.gz", phantom_volume((20, 20, 10)), np.diag([1.0, 1.0, 2.0, 1.0])))
    out = resample_spacing(read, (1.0, 1.0, 1.0))
    assert out.array.shape[1:3] == (20, 20) and out.array.shape[3] in (19, 20)
    np.testing.assert_allclose(np.abs(np.diag(out.affine)[:3]), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("method", ["percentile", "zscore"])
def test_normalisation_is_recorded_and_invertible(tmp_path: Path, method: str) -> None:
    raw = read_any(write_nifti(tmp_path / "v.nii.gz", phantom_volume((16, 16, 8)) * 1000 + 50))
    out = prepare(raw, LoadOptions(normalize=method, high=100.0))
    assert out.norm["method"] == method
    np.testing.assert_allclose(denormalize(out.array, out.norm), raw.array, rtol=1e-4, atol=1e-2)
    if method == "zscore":
        assert abs(out.array.mean()) < 1e-4 and out.array.std() == pytest.approx(1.0, rel=1e-3)


def test_sixteen_bit_png_maps_back_to_its_integers(tmp_path: Path) -> None:
    image = np.linspace(0.01, 0.06, 64).reshape(8, 8)  # a dark 16-bit image: percentile-stretched
    raw = read_any(write_png(tmp_path / "d.png", image, 16))
    out = prepare(raw, LoadOptions(high=100.0))  # auto: 16-bit images get the percentile map
    assert out.array.min() == 0.0 and out.array.max() == pytest.approx(1.0)
    np.testing.assert_allclose(denormalize(out.array, out.norm), np.round(image * 65535)[None], atol=0.5)
