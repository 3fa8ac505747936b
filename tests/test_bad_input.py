"""Bad input: one clear line on stderr, exit code 2, nothing already written lost."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import write_nifti

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]


def assert_clean_failure(result, fragment: str) -> None:
    assert result.code == 2, (result.code, result.err)
    lines = [line for line in result.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert fragment in lines[0], lines[0]


def test_unknown_task(cli) -> None:
    assert_clean_failure(cli("run", "--task", "mri_superess"), "did you mean 'mri_superres'")


def test_unknown_set_key(cli, tmp_path: Path) -> None:
    result = cli("run", "--task", "mri_superres", "--out", tmp_path / "r", "--set", "model.chanels=3")
    assert_clean_failure(result, "did you mean 'model.channels'")
    assert not (tmp_path / "r").exists()


def test_data_missing(cli, tmp_path: Path) -> None:
    assert_clean_failure(cli("run", "--task", "mri_superres", *SMOKE, "--data", tmp_path / "nope",
                             "--out", tmp_path / "r"), "no such file or directory")


def test_data_empty_folder(cli, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_clean_failure(cli("run", "--task", "mri_superres", *SMOKE, "--data", tmp_path / "empty",
                             "--out", tmp_path / "r"), "no NIfTI or image files")


def test_corrupt_nifti(cli, tmp_path: Path) -> None:
    data = tmp_path / "scans"
    data.mkdir()
    good = write_nifti(data / "a.nii.gz", np.random.default_rng(0).random((40, 40, 30)))
    raw = gzip.decompress(good.read_bytes())
    (data / "a.nii.gz").write_bytes(gzip.compress(raw[: len(raw) // 3])[:-20])  # truncated
    assert_clean_failure(cli("run", "--task", "mri_superres", *SMOKE, "--data", data, "--out", tmp_path / "r"),
                         "a.nii.gz")


def _pngs(folder: Path, sizes: list[tuple[int, int]]) -> Path:
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, size in enumerate(sizes):
        Image.fromarray((rng.random(size) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


@pytest.mark.parametrize("task", ["mri_superres", "mri_kspace", "mri_motion", "inpainting"])
def test_image_smaller_than_a_patch(cli, tmp_path: Path, task: str) -> None:
    """Every task training on patches refuses images smaller than one, with core's one line."""
    data = _pngs(tmp_path / "pngs", [(24, 24)] * 6)
    result = cli("run", "--task", task, *SMOKE, "--data", data, "--out", tmp_path / "r",
                 "--set", "data.min_foreground=0", "--set", "data.patch_size=64")
    assert_clean_failure(result, "training image(s) are smaller than one patch (24x24 < 64x")


def test_whole_slices_of_different_sizes(cli, tmp_path: Path) -> None:
    data = _pngs(tmp_path / "pngs", [(32, 32), (40, 32)] * 3)
    result = cli("run", "--task", "mri_motion", *SMOKE, "--data", data, "--out", tmp_path / "r",
                 "--set", "data.min_foreground=0", "--set", "data.patch_size=0")
    assert_clean_failure(result, "training images differ in size (2 shapes")


def test_checkpoint_that_is_not_ours(cli, tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, path)
    assert_clean_failure(cli("eval", "--checkpoint", path), "not a recon checkpoint")


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_checkpoint_with_pickled_code_is_refused(cli, tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": "recon-checkpoint", "payload": Payload()}, path)
    assert_clean_failure(cli("eval", "--checkpoint", path), "refused")
    path2 = tmp_path / "evil2.pt"
    path2.write_bytes(pickle.dumps({"x": Payload()}))
    assert cli("predict", "--checkpoint", path2, path2, "-o", tmp_path / "o.png").code == 2


def test_truncated_checkpoint(cli, smoke_run: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.pt"
    path.write_bytes((smoke_run / "checkpoints" / "last.pt").read_bytes()[:5000])
    assert_clean_failure(cli("eval", "--checkpoint", path), "truncated or corrupt")


def test_out_not_writable_even_for_root(cli) -> None:
    assert_clean_failure(cli("run", "--task", "mri_superres", *SMOKE, "--out", "/proc/recon-run"), "not writable")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions; see the /proc test")
def test_out_in_a_read_only_directory(cli, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert_clean_failure(cli("run", "--task", "mri_superres", *SMOKE, "--out", locked / "r"), "not writable")
    finally:
        locked.chmod(0o700)


def test_out_is_a_file(cli, tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    assert_clean_failure(cli("run", "--task", "mri_superres", *SMOKE, "--out", target / "r"), "is a file")
    assert target.read_text() == "keep me"
