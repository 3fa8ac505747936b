"""`recon eval` and `recon predict` on a trained SR checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from tests.conftest import phantom_volume, write_nifti


def test_eval_prints_the_eval_json_structure(cli, smoke_run: Path, tmp_path: Path) -> None:
    ckpt = smoke_run / "checkpoints" / "last.pt"
    out = tmp_path / "e.json"
    result = cli("eval", "--checkpoint", ckpt, "--json", out)
    assert result.code == 0, result.err
    assert "model" in result.out and "bicubic" in result.out  # the table
    written = json.loads(out.read_text())
    on_disk = json.loads((smoke_run / "eval.json").read_text())
    assert written.keys() == on_disk.keys()
    # same checkpoint, same split, same numbers (up to the training run's channels-last layout)
    assert written["metrics"] == pytest.approx(on_disk["metrics"], rel=1e-6)
    printed = json.loads(cli("eval", "--checkpoint", ckpt, "--json", "-").out)
    assert printed == written


def test_eval_on_the_users_own_volumes(cli, smoke_run: Path, tmp_path: Path) -> None:
    data = tmp_path / "scans"
    data.mkdir()
    write_nifti(data / "a.nii.gz", phantom_volume((64, 64, 20), seed=1))
    result = cli("eval", "--checkpoint", smoke_run / "checkpoints" / "last.pt", "--data", data, "--json", "-",
                 "--set", "data.min_foreground=0.05")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["n_images"] == 16  # every slice of the user's data (eval.max_images caps the test split only)
    assert report["baseline"]["name"] == "bicubic"
    assert report["metrics"]["psnr"] > 0


def test_eval_compare_reports_a_second_model(cli, smoke_run: Path) -> None:
    ckpt = smoke_run / "checkpoints" / "last.pt"
    report = json.loads(cli("eval", "--checkpoint", ckpt, "--compare", ckpt, "--json", "-").out)
    names = [b["name"] for b in report["baselines"]]
    assert names[0] == "bicubic" and len(names) == 2
    assert report["baselines"][1]["metrics"] == report["metrics"]
    assert "st_lpips" in report["metrics"]
    assert names[1] == "compare (ns)"  # the smoke run is adversarial (non-saturating)
    labelled = json.loads(cli("eval", "--checkpoint", ckpt, "--compare", ckpt, "--set",
                              "eval.compare_label=from scratch", "--json", "-").out)
    assert [b["name"] for b in labelled["baselines"]] == ["bicubic", "from scratch"]


def test_eval_compare_table_prints_the_perceptual_columns(cli, smoke_run: Path) -> None:
    ckpt = smoke_run / "checkpoints" / "last.pt"
    result = cli("eval", "--checkpoint", ckpt, "--compare", ckpt, "--set", "eval.patch_kid=true",
                 "--set", "eval.patch_count=6", "--set", "eval.patch_size=48")
    assert result.code == 0, result.err
    header, rule, *rows = result.out.splitlines()[1:]
    assert header.split()[:8] == ["method", "psnr", "ssim", "nmse", "st_lpips", "kid_patch", "kid_patch_std",
                                  "fid_patch"]
    assert [r.split()[0] for r in rows] == ["model", "bicubic", "compare"]  # 'compare (ns)'


def test_predict_nifti_scales_the_affine(cli, smoke_run: Path, tmp_path: Path) -> None:
    affine = np.array([[2.0, 0, 0, -50], [0, 2.0, 0, -60], [0, 0, 3.0, -20], [0, 0, 0, 1]])
    source = write_nifti(tmp_path / "low.nii.gz", phantom_volume((20, 24, 6)) * 1000, affine)
    out = tmp_path / "high.nii.gz"
    result = cli("predict", "--checkpoint", smoke_run / "checkpoints" / "last.pt", source, "-o", out)
    assert result.code == 0, result.err
    image = nib.load(str(out))
    assert image.shape == (80, 96, 6)  # x4 in-plane (axial slices: axis 2 untouched)
    zooms = image.header.get_zooms()
    assert np.allclose(zooms, (0.5, 0.5, 3.0))
    # the first new voxel centre sits 3/8 of an old voxel before the old first centre
    assert np.allclose(image.affine[:3, 3], [-50 - 0.75, -60 - 0.75, -20])
    data = image.get_fdata()
    assert data.max() > 100  # intensities mapped back to the input's scale


def test_predict_png(cli, smoke_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "low.png"
    Image.fromarray((np.random.default_rng(0).random((16, 20)) * 255).astype(np.uint8)).save(source)
    out = tmp_path / "high.png"
    assert cli("predict", "--checkpoint", smoke_run / "checkpoints" / "last.pt", source, "-o", out).code == 0
    assert Image.open(out).size == (80, 64)


def test_predict_missing_input(cli, smoke_run: Path, tmp_path: Path) -> None:
    result = cli("predict", "--checkpoint", smoke_run / "checkpoints" / "last.pt", tmp_path / "nope.nii.gz",
                 "-o", tmp_path / "o.nii.gz")
    assert result.code == 2 and "no such file" in result.err
