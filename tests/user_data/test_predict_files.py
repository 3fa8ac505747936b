"""`recon predict` on a user's own files: geometry, pixel type, headers, folders, no overwrite.

The files are built the way scanners write them: an int16 sagittal NIfTI with anisotropic
voxels and a noisy background, 16-bit PNGs, an oblique multi-slice DICOM series.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from recon.prediction.grid import resampled_affine

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false", "--set", "trainer.eval_every=0",
         "--set", "trainer.sample_every=0"]
TASKS = ("mri_superres", "mri_superres_3d", "mri_motion", "mri_translation", "inpainting", "mri_kspace")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A smoke checkpoint of every task that predicts on files."""
    from recon.cli.main import main

    root = tmp_path_factory.mktemp("ckpt")
    for task in TASKS:
        assert main(["run", "--task", task, *SMOKE, "--out", str(root / task)]) == 0
    return {task: root / task / "checkpoints" / "last.pt" for task in TASKS}


def sagittal_int16(path: Path) -> nib.Nifti1Image:
    """20 x 24 x 6 voxels of 0.9 x 1.1 x 3 mm: voxel axes along A, S, R (sagittal slices),
    Rician-like background, a brighter block, qform/sform codes, units and a description."""
    rng = np.random.default_rng(0)
    noise = np.abs(rng.normal(0, 60, (20, 24, 6)) + 1j * rng.normal(0, 60, (20, 24, 6)))
    array = noise.copy()
    array[4:16, 5:19, 1:5] += 1800
    affine = np.array([[0, 0, 3.0, -10], [0.9, 0, 0, 20], [0, 1.1, 0, -5], [0, 0, 0, 1]])
    image = nib.Nifti1Image(array.astype(np.int16), affine)
    image.header.set_xyzt_units("mm", "sec")
    image.header["descrip"] = b"scanner export"
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=4)
    nib.save(image, str(path))
    return image


def png16(path: Path, shape: tuple[int, int] = (40, 48), seed: int = 0) -> np.ndarray:
    array = (np.random.default_rng(seed).random(shape) * 40000).astype(np.uint16)
    Image.fromarray(array).save(path)
    return array


def test_nifti_superres_keeps_type_header_and_gets_its_real_grid(cli, checkpoints, tmp_path: Path) -> None:
    source = sagittal_int16(tmp_path / "sag.nii.gz")
    result = cli("predict", "--checkpoint", checkpoints["mri_superres"], tmp_path / "sag.nii.gz",
                 "-o", tmp_path / "sr.nii.gz")
    assert result.code == 0, result.err
    out = nib.load(str(tmp_path / "sr.nii.gz"))
    scale = out.shape[0] // source.shape[0]
    # slices of the RAS-reoriented volume along S (data.axis=2): R and A finer, S unchanged
    assert scale > 1 and out.shape == (20 * scale, 24, 6 * scale)
    expected = resampled_affine(source.affine, source.shape, out.shape)
    assert np.abs(out.affine - expected).max() < 1e-4
    assert out.get_data_dtype() == np.int16
    assert (int(out.header["qform_code"]), int(out.header["sform_code"])) == (1, 4)
    assert out.header.get_xyzt_units() == ("mm", "sec")
    description = out.header["descrip"].tobytes().rstrip(b"\0")
    assert description == b"recon predict: mri_superres (smoke preset) | scanner export"
    assert 0 <= out.get_fdata().min() and out.get_fdata().max() <= source.get_fdata().max() * 1.05


def test_prediction_is_prepared_as_training_was(cli, checkpoints, tmp_path: Path) -> None:
    """A sagittal file and its RAS copy give the same result: slices are taken along the
    training orientation, not along the file's voxel axis."""
    source = sagittal_int16(tmp_path / "sag.nii.gz")
    nib.save(nib.as_closest_canonical(source), str(tmp_path / "ras.nii.gz"))
    for name in ("sag", "ras"):
        assert cli("predict", "--checkpoint", checkpoints["mri_superres"], tmp_path / f"{name}.nii.gz",
                   "-o", tmp_path / f"{name}_sr.nii.gz").code == 0
    sag = nib.as_closest_canonical(nib.load(str(tmp_path / "sag_sr.nii.gz")))
    ras = nib.load(str(tmp_path / "ras_sr.nii.gz"))
    assert sag.shape == ras.shape and np.abs(sag.affine - ras.affine).max() < 1e-4
    assert np.abs(sag.get_fdata() - ras.get_fdata()).max() <= 1.0  # int16 rounding


def test_3d_model_gets_a_finer_grid_along_every_axis(cli, checkpoints, tmp_path: Path) -> None:
    source = sagittal_int16(tmp_path / "sag.nii.gz")
    assert cli("predict", "--checkpoint", checkpoints["mri_superres_3d"], tmp_path / "sag.nii.gz",
               "-o", tmp_path / "sr3.nii.gz").code == 0
    out = nib.load(str(tmp_path / "sr3.nii.gz"))
    scale = out.shape[0] // source.shape[0]
    assert out.shape == tuple(n * scale for n in source.shape)
    assert np.abs(out.affine - resampled_affine(source.affine, source.shape, out.shape)).max() < 1e-4


def test_same_grid_tasks_keep_the_affine(cli, checkpoints, tmp_path: Path) -> None:
    source = sagittal_int16(tmp_path / "sag.nii.gz")
    assert cli("predict", "--checkpoint", checkpoints["mri_motion"], tmp_path / "sag.nii.gz",
               "-o", tmp_path / "mo.nii.gz").code == 0
    motion = nib.load(str(tmp_path / "mo.nii.gz"))
    assert motion.shape == source.shape and np.abs(motion.affine - source.affine).max() < 1e-4
    assert motion.get_data_dtype() == np.int16
    # translation synthesises another contrast: no intensity units to restore, float in [0, 1]
    assert cli("predict", "--checkpoint", checkpoints["mri_translation"], tmp_path / "sag.nii.gz",
               "-o", tmp_path / "t2.nii.gz").code == 0
    t2 = nib.load(str(tmp_path / "t2.nii.gz"))
    assert t2.shape == source.shape and np.abs(t2.affine - source.affine).max() < 1e-4
    assert t2.get_data_dtype() == np.float32 and 0 <= t2.get_fdata().min() and t2.get_fdata().max() <= 1


def test_png_and_tiff_bit_depth_is_kept(cli, checkpoints, tmp_path: Path) -> None:
    import tifffile

    tifffile.imwrite(str(tmp_path / "c.tif"), (np.random.default_rng(2).random((40, 48)) * 60000).astype(np.uint16))
    result = cli("predict", "--checkpoint", checkpoints["mri_superres"], tmp_path / "c.tif",
                 "-o", tmp_path / "c_sr.tif")
    assert result.code == 0, result.err
    assert tifffile.imread(str(tmp_path / "c_sr.tif")).dtype == np.uint16
    png16(tmp_path / "a.png")
    Image.fromarray((np.random.default_rng(1).random((40, 48)) * 255).astype(np.uint8)).save(tmp_path / "b.png")
    for name in ("a", "b"):
        result = cli("predict", "--checkpoint", checkpoints["mri_superres"], tmp_path / f"{name}.png",
                     "-o", tmp_path / f"{name}_sr.png")
        assert result.code == 0, result.err
    assert Image.open(tmp_path / "a_sr.png").mode == "I;16"
    assert Image.open(tmp_path / "b_sr.png").mode == "L"
    assert Image.open(tmp_path / "a_sr.png").size[0] > 48


def test_model_and_geometry_keys_are_refused(cli, checkpoints, tmp_path: Path) -> None:
    png16(tmp_path / "a.png")
    for key in ("data.scale=2", "model.channels=4", "data.axis=0"):
        result = cli("predict", "--checkpoint", checkpoints["mri_superres"], tmp_path / "a.png",
                     "-o", tmp_path / "out.png", "--set", key)
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
        assert "cannot change here" in result.err
        scored = cli("eval", "--checkpoint", checkpoints["mri_superres"], "--set", key)
        assert scored.code == 2 and "`recon eval` uses the model and geometry" in scored.err
    assert not (tmp_path / "out.png").exists()


def test_never_overwrites(cli, checkpoints, tmp_path: Path) -> None:
    png16(tmp_path / "a.png")
    original = (tmp_path / "a.png").read_bytes()
    ck = checkpoints["mri_superres"]
    onto_input = cli("predict", "--checkpoint", ck, tmp_path / "a.png", "-o", tmp_path / "a.png", "--force")
    assert onto_input.code == 2 and "would write onto the input" in onto_input.err
    assert (tmp_path / "a.png").read_bytes() == original
    (tmp_path / "out.png").write_bytes(b"keep me")
    exists = cli("predict", "--checkpoint", ck, tmp_path / "a.png", "-o", tmp_path / "out.png")
    assert exists.code == 2 and "already exists; pass --force" in exists.err
    assert (tmp_path / "out.png").read_bytes() == b"keep me"
    assert cli("predict", "--checkpoint", ck, tmp_path / "a.png", "-o", tmp_path / "out.png", "--force").code == 0
    assert Image.open(tmp_path / "out.png").mode == "I;16"


def test_folders_and_globs_one_output_per_input(cli, checkpoints, tmp_path: Path) -> None:
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i in range(3):
        png16(folder / f"im{i}.png", seed=i)
    (folder / "im9.png").write_bytes(b"not a png")  # one bad file
    ck = checkpoints["mri_superres"]
    result = cli("predict", "--checkpoint", ck, folder, "-o", tmp_path / "out")
    assert result.code == 2  # reported, skipped, counted
    assert "skipped" in result.err and "im9.png" in result.err
    assert "wrote 3 of 4 outputs" in result.out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["im0.png", "im1.png", "im2.png"]
    strict = cli("predict", "--checkpoint", ck, str(folder / "im*.png"), "-o", tmp_path / "strict", "--strict")
    assert strict.code == 2 and len(strict.err.strip().splitlines()) == 1
    globbed = cli("predict", "--checkpoint", ck, str(folder / "im[01].png"), "-o", tmp_path / "glob")
    assert globbed.code == 0, globbed.err
    assert sorted(p.name for p in (tmp_path / "glob").iterdir()) == ["im0.png", "im1.png"]


def test_inpainting_needs_a_mask_and_keeps_known_pixels(cli, checkpoints, tmp_path: Path) -> None:
    image = png16(tmp_path / "x.png", (64, 64))
    ck = checkpoints["inpainting"]
    missing = cli("predict", "--checkpoint", ck, tmp_path / "x.png", "-o", tmp_path / "a.png")
    assert missing.code == 2 and "no hole mask" in missing.err  # never a guessed hole
    hole = np.zeros((64, 64), np.uint8)
    hole[20:40, 24:44] = 255
    Image.fromarray(hole).save(tmp_path / "hole.png")
    result = cli("predict", "--checkpoint", ck, tmp_path / "x.png", "-o", tmp_path / "a.png",
                 "--mask", tmp_path / "hole.png")
    assert result.code == 0, result.err
    out = np.asarray(Image.open(tmp_path / "a.png"))
    assert out.dtype == np.uint16 and out.shape == (64, 64)
    known = hole == 0
    assert np.array_equal(out[known], image[known])


def _dicom_affine(files: list[Path]) -> tuple[np.ndarray, tuple[int, int]]:
    """The RAS affine of a series from its tags (pydicom alone, LPS -> RAS)."""
    import pydicom

    headers = [pydicom.dcmread(f) for f in files]
    iop = np.array(headers[0].ImageOrientationPatient, dtype=float)
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    headers.sort(key=lambda h: float(np.dot(normal, np.array(h.ImagePositionPatient, dtype=float))))
    first = np.array(headers[0].ImagePositionPatient, dtype=float)
    step = (np.array(headers[-1].ImagePositionPatient, dtype=float) - first) / max(len(headers) - 1, 1)
    spacing = [float(v) for v in headers[0].PixelSpacing]
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1], lps[:3, 2], lps[:3, 3] = row * spacing[1], col * spacing[0], step, first
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps, (int(headers[0].Columns), int(headers[0].Rows))


def test_dicom_series_in_gives_a_dicom_series_out(cli, checkpoints, tmp_path: Path) -> None:
    import pydicom

    from tests.user_data.test_dicom_out import make_series

    make_series(tmp_path / "series")
    inputs = sorted((tmp_path / "series").iterdir())
    in_affine, (cols, rows) = _dicom_affine(inputs)
    result = cli("predict", "--checkpoint", checkpoints["mri_superres"], tmp_path / "series", "-o", tmp_path / "sr")
    assert result.code == 0, result.err
    outputs = sorted((tmp_path / "sr").iterdir())
    out_affine, (out_cols, out_rows) = _dicom_affine(outputs)
    in_shape = (cols, rows, len(inputs))
    out_shape = (out_cols, out_rows, len(outputs))
    assert out_shape != in_shape
    assert np.abs(out_affine - resampled_affine(in_affine, in_shape, out_shape)).max() < 1e-4
    first_in, first_out = pydicom.dcmread(inputs[0]), pydicom.dcmread(outputs[0])
    assert first_out.SeriesInstanceUID != first_in.SeriesInstanceUID
    assert first_out.StudyInstanceUID == first_in.StudyInstanceUID and first_out.PatientID == first_in.PatientID
    assert list(first_out.ImageType)[:2] == ["DERIVED", "SECONDARY"]
    assert "mri_superres" in first_out.SeriesDescription


def test_kspace_reconstruction_of_a_volume_keeps_its_format(cli, checkpoints, tmp_path: Path) -> None:
    """A magnitude volume, undersampled by the run's simulation and reconstructed, is written on
    the input's grid and pixel type (NIfTI) or as a derived series on the input's grid (DICOM)."""
    from tests.user_data.test_dicom_out import make_series

    source = sagittal_int16(tmp_path / "sag.nii.gz")
    result = cli("predict", "--checkpoint", checkpoints["mri_kspace"], tmp_path / "sag.nii.gz",
                 "-o", tmp_path / "k.nii.gz")
    assert result.code == 0, result.err
    out = nib.load(str(tmp_path / "k.nii.gz"))
    assert out.shape == source.shape and np.abs(out.affine - source.affine).max() < 1e-4
    assert out.get_data_dtype() == np.int16
    make_series(tmp_path / "series")
    inputs = sorted((tmp_path / "series").iterdir())
    result = cli("predict", "--checkpoint", checkpoints["mri_kspace"], tmp_path / "series", "-o", tmp_path / "k")
    assert result.code == 0, result.err
    outputs = sorted((tmp_path / "k").iterdir())
    in_affine, in_size = _dicom_affine(inputs)
    out_affine, out_size = _dicom_affine(outputs)
    assert out_size == in_size and len(outputs) == len(inputs)
    assert np.abs(out_affine - in_affine).max() < 1e-4
