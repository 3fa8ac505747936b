"""``mri_motion`` end to end: eval.json with its baselines, predict, config errors."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from tests.conftest import phantom_volume, write_nifti


def test_eval_json_reports_corrupted_and_non_adversarial(motion_runs: dict[str, Path]) -> None:
    result = json.loads((motion_runs["gan"] / "eval.json").read_text())
    assert result["task"] == "mri_motion" and result["split"] == "test" and result["n_images"] == 4
    assert result["conventions"]["name"] == "fastmri"
    assert result["baseline"]["name"] == "corrupted"
    assert [b["name"] for b in result["baselines"]] == ["corrupted", "non-adversarial"]
    for entry in [result, *result["baselines"]]:
        metrics = entry["metrics"]
        assert set(metrics) >= {"psnr", "ssim", "nmse"} and all(np.isfinite(v) for v in metrics.values())
    plain = json.loads((motion_runs["plain"] / "eval.json").read_text())
    assert result["baselines"][1]["metrics"] == pytest.approx(plain["metrics"])  # the same generator


def test_corrupted_baseline_matches_an_independent_psnr(motion_runs: dict[str, Path]) -> None:
    """The 'corrupted' PSNR is skimage's on the stacked test slices (fastMRI: gt.max() range)."""
    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task("mri_motion")
    cfg = build_config(task, "smoke")
    dataset = task.build_dataset(cfg, "test")
    gt = np.stack([dataset[i]["target"][0].numpy() for i in range(4)]).astype(np.float64)
    corrupted = np.stack([dataset[i]["input"][0].clamp(0, 1).numpy() for i in range(4)]).astype(np.float64)
    expected = peak_signal_noise_ratio(gt, corrupted, data_range=gt.max())
    result = json.loads((motion_runs["gan"] / "eval.json").read_text())
    assert result["baseline"]["metrics"]["psnr"] == pytest.approx(expected, rel=1e-6)
    assert expected < 40  # the default motion visibly corrupts the slices


def test_predict_nifti_keeps_affine_and_intensity_range(cli, motion_runs: dict[str, Path], tmp_path: Path) -> None:
    affine = np.array([[0.9, 0, 0, -40.0], [0, 1.1, 0, 12.5], [0, 0, 2.0, 7.0], [0, 0, 0, 1]])
    volume = phantom_volume((30, 26, 5)) * 800.0  # scanner units
    source = write_nifti(tmp_path / "moved.nii.gz", volume, affine)
    out = tmp_path / "corrected.nii.gz"
    result = cli("predict", "--checkpoint", motion_runs["gan"] / "checkpoints" / "last.pt", source, "-o", out)
    assert result.code == 0, result.err
    written = nib.load(str(out))
    assert np.allclose(written.affine, affine) and written.shape == volume.shape
    data = written.get_fdata()
    assert np.isfinite(data).all() and data.min() >= -1e-3 and data.max() <= volume.max() * 1.001


def test_predict_png_keeps_size(cli, motion_runs: dict[str, Path], tmp_path: Path) -> None:
    from PIL import Image

    source = tmp_path / "slice.png"
    Image.fromarray((phantom_volume((45, 38, 3))[..., 1] * 255).clip(0, 255).astype(np.uint8)).save(source)
    out = tmp_path / "corrected.png"
    result = cli("predict", "--checkpoint", motion_runs["gan"] / "checkpoints" / "last.pt", source, "-o", out)
    assert result.code == 0, result.err
    assert Image.open(out).size == (38, 45)


@pytest.mark.parametrize("setting,word", [
    ("motion.max_rotation=-1", "motion.max_rotation"),
    ("motion.max_translation=-0.5", "motion.max_translation"),
    ("motion.num_events=-2", "motion.num_events"),
    ("motion.fraction_corrupted=1.5", "motion.fraction_corrupted"),
    ("motion.center_fraction=1", "motion.center_fraction"),
    ("motion.fraction_corrupted=0.95", "motion.center_fraction"),  # 0.95 + 0.08 > 1
    ("motion.max_rotation=nan", "motion.max_rotation"),
    ("motion.ordering=spiral", "motion.ordering"),
    ("motion.num_event=2", "motion.num_events"),  # unknown key: the closest valid one is named
])
def test_bad_motion_values_are_config_errors(cli, tmp_path: Path, setting: str, word: str) -> None:
    result = cli("run", "--task", "mri_motion", "--preset", "smoke", "--out", tmp_path / "run", "--set", setting)
    assert result.code == 2, result.err
    assert word in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_eval_on_the_users_clean_volume(cli, motion_runs: dict[str, Path], tmp_path: Path) -> None:
    """``recon eval --data``: the task simulates the motion on every slice of the user's volume."""
    source = write_nifti(tmp_path / "clean.nii.gz", phantom_volume((40, 36, 6)))
    out = tmp_path / "eval.json"
    result = cli("eval", "--checkpoint", motion_runs["gan"] / "checkpoints" / "last.pt", "--data", source,
                 "--json", out, "--set", "eval.max_images=0")
    assert result.code == 0, result.err
    report = json.loads(out.read_text())
    # 6 slices along z; the two end slices are empty (outside the ellipsoid) and skipped
    assert report["n_images"] == 4 and report["baseline"]["name"] == "corrupted"
    assert report["baseline"]["metrics"]["psnr"] < 60  # the inputs were corrupted


def test_untrained_residual_unet_is_the_identity() -> None:
    """The generator starts at the baseline (corrected == corrupted input), for any slice size."""
    import torch

    from recon_motion.networks import ResidualUNet

    net = ResidualUNet(1, 1, (4, 4, 8, 8, 16, 4)).eval()
    x = torch.rand(3, 1, 45, 38)
    with torch.no_grad():
        assert torch.equal(net(x), x)
