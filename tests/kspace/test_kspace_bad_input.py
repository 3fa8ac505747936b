"""Bad input to ``mri_kspace`` through the CLI: exit code 2 and one clear line, no traceback."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from recon_kspace.fastmri_io import make_fake_fastmri, write_fastmri
from tests.conftest import SMOKE


def assert_clean_failure(result, fragment: str) -> None:
    assert result.code == 2, (result.code, result.err)
    lines = [line for line in result.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    assert fragment in lines[0], lines[0]


def _predict(cli, runs: dict, source: Path, out: Path):
    return cli("predict", "--checkpoint", runs["gan"] / "checkpoints" / "last.pt", source, "-o", out)


def test_hdf5_without_kspace(cli, kspace_runs: dict, tmp_path: Path) -> None:
    source = write_fastmri(tmp_path / "nok.h5", None, reconstruction_esc=np.ones((2, 8, 8), np.float32))
    assert_clean_failure(_predict(cli, kspace_runs, source, tmp_path / "o.nii.gz"), "no 'kspace' dataset")


def test_kspace_of_the_wrong_rank(cli, kspace_runs: dict, tmp_path: Path) -> None:
    source = write_fastmri(tmp_path / "rank.h5", np.ones((16, 16), np.complex64))
    assert_clean_failure(_predict(cli, kspace_runs, source, tmp_path / "o.nii.gz"), "rank 2")


def test_file_mask_of_another_width(cli, kspace_runs: dict, tmp_path: Path) -> None:
    source = make_fake_fastmri(tmp_path / "odd.h5", num_slices=1, shape=(16, 16))
    with h5py.File(source, "a") as f:
        f.create_dataset("mask", data=np.ones(17, np.float32))  # 17 lines for 16-column k-space
    assert_clean_failure(_predict(cli, kspace_runs, source, tmp_path / "o.nii.gz"), "odd/even mismatch")


def test_file_mask_that_samples_nothing(cli, kspace_runs: dict, tmp_path: Path) -> None:
    source = make_fake_fastmri(tmp_path / "empty.h5", num_slices=1, shape=(16, 16))
    with h5py.File(source, "a") as f:
        f.create_dataset("mask", data=np.zeros(16, np.float32))
    assert_clean_failure(_predict(cli, kspace_runs, source, tmp_path / "o.nii.gz"), "samples nothing")


def test_fastmri_input_needs_a_volume_output(cli, kspace_runs: dict, tmp_path: Path) -> None:
    source = make_fake_fastmri(tmp_path / "f.h5", num_slices=1, shape=(16, 16))
    assert_clean_failure(_predict(cli, kspace_runs, source, tmp_path / "o.png"), ".nii")


@pytest.mark.parametrize("setting,fragment", [
    ("mask.acceleration=0.5", "mask.acceleration=0.5 is out of range (must be >= 1"),
    ("mask.acceleration=0", "mask.acceleration=0.0 is out of range (must be >= 1"),
    ("mask.center_fraction=1.5", "mask.center_fraction=1.5 is out of range (must be >= 0 and < 1)"),
    ("mask.kind=radial", "mask.kind"),
    ("data.coils=0", "data.coils"),
    ("model.cascades=0", "model.cascades"),
    ("loss.kspace=-1", "loss.kspace"),
])
def test_bad_config_values(cli, tmp_path: Path, setting: str, fragment: str) -> None:
    result = cli("run", "--task", "mri_kspace", *SMOKE, "--out", tmp_path / "r", "--set", setting)
    assert_clean_failure(result, fragment)


def test_center_fraction_that_fills_the_budget(cli, tmp_path: Path) -> None:
    """At 4x a centre of half the columns already exceeds the 1/4 sampling budget."""
    result = cli("run", "--task", "mri_kspace", *SMOKE, "--out", tmp_path / "r", "--set", "mask.center_fraction=0.5")
    assert_clean_failure(result, "center_fraction")


def test_training_folder_with_a_file_without_kspace(cli, tmp_path: Path) -> None:
    data = tmp_path / "knee"
    data.mkdir()
    for i in range(2):
        make_fake_fastmri(data / f"file{i}.h5", num_slices=1, shape=(16, 16), seed=i)
    write_fastmri(data / "broken.h5", None, reconstruction_esc=np.ones((1, 16, 16), np.float32))
    result = cli("run", "--task", "mri_kspace", *SMOKE, "--data", data, "--out", tmp_path / "r")
    assert_clean_failure(result, "broken.h5")
