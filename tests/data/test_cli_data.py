"""`recon run --data` on files the tests write: formats that train, bad inputs that exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.data.helpers import nifti_folder, phantom_volume, write_dicom_series, write_fastmri, write_nifti, write_png

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false", "--set", "trainer.max_steps=2"]


def assert_clean_failure(result, fragment: str) -> None:
    assert result.code == 2, (result.code, result.err)
    lines = [line for line in result.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert fragment in lines[0], lines[0]


def _mixed_formats(folder: Path) -> Path:
    """One subject each as NIfTI, a DICOM series and a fastMRI HDF5 file."""
    folder.mkdir()
    write_nifti(folder / "a.nii.gz", phantom_volume((48, 48, 40), seed=1))
    write_dicom_series(folder / "b_series", phantom_volume((48, 48, 12), seed=2))
    write_fastmri(folder / "c.h5", phantom_volume((48, 48, 10), seed=3).transpose(2, 0, 1))
    return folder


def test_superres_on_nifti_dicom_and_hdf5_with_skip_bad(cli, tmp_path: Path) -> None:
    data = _mixed_formats(tmp_path / "scans")
    write_nifti(data / "nan.nii.gz", np.full((16, 16, 8), np.nan))
    refused = cli("run", "--task", "mri_superres", *SMOKE, "--data", data, "--out", tmp_path / "r0")
    assert_clean_failure(refused, "nan.nii.gz: contains NaN")
    result = cli("run", "--task", "mri_superres", *SMOKE, "--data", data, "--out", tmp_path / "r",
                 "--set", "data.skip_bad=true")
    assert result.code == 0, result.err
    assert "skipped 1 bad file(s)" in result.err and "nan.nii.gz" in result.err
    assert json.loads((tmp_path / "r" / "eval.json").read_text())["n_images"] > 0


def test_srgan_on_a_png_folder(cli, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    (tmp_path / "photos").mkdir()
    for i in range(4):
        write_png(tmp_path / "photos" / f"{i}.png", rng.random((72, 80, 3)))
    result = cli("run", "--task", "srgan", *SMOKE, "--data", tmp_path / "photos", "--out", tmp_path / "r")
    assert result.code == 0, result.err
    assert json.loads((tmp_path / "r" / "eval.json").read_text())["conventions"]["name"] == "sr"


def test_superres_3d_on_a_nifti_folder(cli, tmp_path: Path) -> None:
    data = nifti_folder(tmp_path / "scans", n=3, shape=(32, 32, 24))
    result = cli("run", "--task", "mri_superres_3d", *SMOKE, "--data", data, "--out", tmp_path / "r",
                 "--set", "data.scale=2", "--set", "data.patch_size=16",
                 "--set", "data.eval_crop=16")
    assert result.code == 0, result.err
    result_json = json.loads((tmp_path / "r" / "eval.json").read_text())
    assert result_json["baseline"]["name"] == "trilinear" and result_json["n_volumes"] == 1


def test_the_old_3d_switch_points_to_the_3d_task(cli, tmp_path: Path) -> None:
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", tmp_path / "r", "--set", "model.spatial_dims=3")
    assert result.code == 2 and "Traceback" not in result.err
    assert "model.spatial_dims is no longer a config key: 3D super-resolution is its own task: " \
           "recon run --task mri_superres_3d" in result.err
    assert not (tmp_path / "r").exists()


def _run(cli, tmp_path: Path, data: Path, *extra: str):  # noqa: ANN202
    return cli("run", "--task", "mri_superres", *SMOKE, "--data", data, "--out", tmp_path / "r", *extra)


def test_folder_of_non_image_files(cli, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("hello")
    (tmp_path / "docs" / "table.csv.bak").write_text("1,2")
    assert_clean_failure(_run(cli, tmp_path, tmp_path / "docs"), "no NIfTI or image files found")


def test_image_file_that_is_not_an_image(cli, tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "fake.png").write_text("not a png")
    assert_clean_failure(_run(cli, tmp_path, tmp_path / "imgs"), "fake.png: not a readable image")


def test_4d_volume_where_3d_is_expected(cli, tmp_path: Path) -> None:
    write_nifti(tmp_path / "fmri.nii.gz", np.random.default_rng(0).random((16, 16, 8, 5)))
    assert_clean_failure(_run(cli, tmp_path, tmp_path / "fmri.nii.gz"), "fmri.nii.gz: expected a 3D volume")


@pytest.mark.parametrize("fill,message", [(np.nan, "contains NaN or Inf"), (3.0, "constant image")])
def test_nan_or_constant_volume(cli, tmp_path: Path, fill: float, message: str) -> None:
    write_nifti(tmp_path / "bad.nii.gz", np.full((16, 16, 8), fill))
    assert_clean_failure(_run(cli, tmp_path, tmp_path / "bad.nii.gz"), f"bad.nii.gz: {message}")


def test_dicom_folder_with_mixed_series(cli, tmp_path: Path) -> None:
    folder = write_dicom_series(tmp_path / "dicom", phantom_volume((16, 16, 3)), series_uid="1.2.3.1")
    write_dicom_series(tmp_path / "other", phantom_volume((16, 16, 3)), series_uid="1.2.3.2")
    for i, f in enumerate(sorted((tmp_path / "other").iterdir())):
        f.rename(folder / f"x{i}.dcm")
    assert_clean_failure(_run(cli, tmp_path, folder), "dicom: mixed DICOM series")


def test_manifest_missing_file_and_column(cli, tmp_path: Path) -> None:
    nifti_folder(tmp_path, n=3, shape=(16, 16, 8))
    manifest = tmp_path / "list.csv"
    manifest.write_text("t1\nsub00.nii.gz\nsub01.nii.gz\nmissing.nii.gz\n")
    assert_clean_failure(_run(cli, tmp_path, manifest), "list.csv row 3: t1 file")
    assert_clean_failure(_run(cli, tmp_path, manifest, "--set", "data.role=t2"), "list.csv: no column 't2'")


def test_manifest_with_mismatched_shapes(cli, tmp_path: Path) -> None:
    from recon.plugins import get_plugin_system

    if "mri_translation" not in get_plugin_system().registries["tasks"]:
        pytest.skip("mri_translation (the paired task) is not registered in this checkout")
    rows = []
    for i in range(3):
        write_nifti(tmp_path / f"t1_{i}.nii.gz", phantom_volume((32, 32, 24), seed=i))
        write_nifti(tmp_path / f"t2_{i}.nii.gz", phantom_volume((16, 16, 12), seed=i))
        rows.append(f"t1_{i}.nii.gz,t2_{i}.nii.gz")
    (tmp_path / "pairs.csv").write_text("t1,t2\n" + "\n".join(rows) + "\n")
    result = cli("run", "--task", "mri_translation", *SMOKE, "--data", tmp_path / "pairs.csv", "--out", tmp_path / "r")
    assert_clean_failure(result, "pairs.csv row 1: t2")


def test_bad_volume_in_a_fresh_process_prints_one_line(subprocess_cli, tmp_path: Path) -> None:
    """Outside pytest's log capture too: MONAI's reader probes must not add lines to stderr."""
    write_nifti(tmp_path / "fmri.nii.gz", np.random.default_rng(0).random((16, 16, 8, 3)))
    result = subprocess_cli("run", "--task", "mri_superres", *SMOKE, "--data", tmp_path / "fmri.nii.gz",
                            "--out", tmp_path / "r")
    assert_clean_failure(result, "fmri.nii.gz: expected a 3D volume")


def test_simulated_t2_source_with_augmentation(cli, tmp_path: Path) -> None:
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", tmp_path / "r", "--set", "data.source=mni152:t2",
                 "--set", "data.augment_affine=1", "--set", "data.augment_elastic=1",
                 "--set", "data.augment_intensity=1")
    assert result.code == 0, result.err
    config = (tmp_path / "r" / "config.yaml").read_text()
    assert "source: mni152:t2" in config and "augment_elastic: 1.0" in config
