"""``mri_translation`` through the CLI: run, eval.json, eval, predict, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SMOKE, write_nifti

HISTOGRAM = "histogram-matched source"


def assert_clean_failure(result, fragment: str) -> None:
    assert result.code == 2, (result.code, result.err)
    lines = [line for line in result.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    assert fragment in lines[0], lines[0]


def test_smoke_run_writes_eval_json_with_the_histogram_baseline_first(translation_runs) -> None:
    run = translation_runs["gan"]
    for name in ("config.yaml", "metrics.jsonl", "checkpoints/last.pt", "eval.json"):
        assert (run / name).exists(), name
    assert list((run / "samples").glob("*.png"))
    result = json.loads((run / "eval.json").read_text())
    assert result["task"] == "mri_translation" and result["split"] == "test" and result["n_images"] == 4
    assert result["baseline"]["name"] == HISTOGRAM
    names = [b["name"] for b in result["baselines"]]
    assert names == [HISTOGRAM, "intensity lookup", "non-adversarial"]
    assert result["baselines"][0] == result["baseline"]
    conventions = result["conventions"]
    assert conventions["name"] == "fastmri" and "data_range = gt.max()" in conventions["psnr"]
    for entry in [{"metrics": result["metrics"]}, *result["baselines"]]:
        assert set(entry["metrics"]) == {"psnr", "ssim", "nmse", "st_lpips"}
        assert all(np.isfinite(v) for v in entry["metrics"].values())
    # the adversarial run trained a conditional D: its losses are logged
    logs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("d_loss" in entry and "g_adv" in entry for entry in logs)
    config = (run / "config.yaml").read_text()
    assert "source_contrast: t1" in config and "target: t2" in config


def test_histogram_baseline_scores_as_fastmri_metrics_say(translation_runs) -> None:
    """Recompute the baseline's PSNR/NMSE on the test slices with skimage and the published formula."""
    from skimage.metrics import peak_signal_noise_ratio

    import torch

    from recon.train.inference import load_run
    from recon.plugins import get_task

    task, cfg, state = load_run(translation_runs["gan"] / "checkpoints" / "last.pt")
    generator = get_task("mri_translation").setup(cfg, None).generator
    generator.load_state_dict(state["nets"]["generator"])
    assert generator.intensity.is_fitted
    data = task.build_dataset(cfg, "test")
    items = [data[i] for i in range(cfg.eval.max_images)]
    gt = np.stack([it["target"][0].numpy() for it in items]).astype(np.float64)
    pred = generator.intensity.histogram_matched(torch.stack([it["input"] for it in items]))[:, 0].numpy()
    pred = np.clip(pred, 0, 1).astype(np.float64)
    result = json.loads((translation_runs["gan"] / "eval.json").read_text())["baseline"]["metrics"]
    assert result["psnr"] == pytest.approx(peak_signal_noise_ratio(gt, pred, data_range=gt.max()), abs=1e-3)
    assert result["nmse"] == pytest.approx(np.sum((gt - pred) ** 2) / np.sum(gt**2), rel=1e-4)


def test_eval_reproduces_the_run_and_reports_the_comparison(cli, translation_runs, tmp_path: Path) -> None:
    ckpt = translation_runs["gan"] / "checkpoints" / "last.pt"
    plain = translation_runs["plain"] / "checkpoints" / "last.pt"
    out = tmp_path / "eval.json"
    result = cli("eval", "--checkpoint", ckpt, "--compare", plain, "--json", out)
    assert result.code == 0, result.err
    again = json.loads(out.read_text())
    saved = json.loads((translation_runs["gan"] / "eval.json").read_text())
    assert again["metrics"] == pytest.approx(saved["metrics"], rel=1e-5)
    assert again["baseline"]["metrics"] == pytest.approx(saved["baseline"]["metrics"], rel=1e-5)
    assert [b["name"] for b in again["baselines"]][-1] == "non-adversarial"


def test_predict_nifti_keeps_shape_and_affine(cli, translation_runs, tmp_path: Path) -> None:
    import nibabel as nib

    from tests.conftest import phantom_volume

    affine = np.array([[-1.2, 0, 0, 90.0], [0, 1.1, 0, -120.0], [0, 0, 2.5, -70.0], [0, 0, 0, 1]])
    source = write_nifti(tmp_path / "t1.nii.gz", 300.0 * phantom_volume((30, 26, 7)), affine)
    output = tmp_path / "t2_synth.nii.gz"
    ckpt = translation_runs["gan"] / "checkpoints" / "last.pt"
    result = cli("predict", "--checkpoint", ckpt, source, "-o", output)
    assert result.code == 0, result.err
    img = nib.load(str(output))
    assert img.shape == (30, 26, 7)
    np.testing.assert_allclose(img.affine, affine, atol=1e-5)
    data = img.get_fdata()
    assert np.isfinite(data).all() and data.min() >= 0 and data.max() <= 1
    # intensities are normalised as in training: the file's units do not matter
    rescaled = write_nifti(tmp_path / "t1_raw.nii.gz", phantom_volume((30, 26, 7)), affine)
    assert cli("predict", "--checkpoint", ckpt, rescaled, "-o", tmp_path / "again.nii.gz").code == 0
    np.testing.assert_allclose(nib.load(str(tmp_path / "again.nii.gz")).get_fdata(), data, atol=1e-4)


def test_predict_png_to_png(cli, translation_runs, tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((37, 45)) * 255).astype(np.uint8)).save(tmp_path / "t1.png")
    result = cli("predict", "--checkpoint", translation_runs["gan"] / "checkpoints" / "last.pt",
                 tmp_path / "t1.png", "-o", tmp_path / "t2.png")
    assert result.code == 0, result.err
    assert np.asarray(Image.open(tmp_path / "t2.png")).shape == (37, 45)
    nifti_out = cli("predict", "--checkpoint", translation_runs["gan"] / "checkpoints" / "last.pt",
                    tmp_path / "t1.png", "-o", tmp_path / "t2.nii.gz")
    assert_clean_failure(nifti_out, "needs an image output")


@pytest.mark.parametrize(("overrides", "fragment"), [
    (["data.target=t3"], "data.target: unknown contrast 't3' for mni152; valid: t1, t2, pd, t1sim"),
    (["data.source_contrast=T1"], "data.source_contrast: unknown contrast 'T1'"),
    (["data.target=t1"], "both 't1'"),
    (["data.source=natural"], "needs paired contrasts"),
    (["data.source=mni152:t2"], "choose the contrasts with data.source_contrast"),
    (["data.normalize=zscore"], "intensities in [0, 1]"),
    (["data.patch_size=16", "model.d_layers=3"], "too small for a PatchGAN with model.d_layers=3 (at least 24)"),
])
def test_bad_contrast_settings_exit_2(cli, tmp_path: Path, overrides: list[str], fragment: str) -> None:
    args = [a for o in overrides for a in ("--set", o)]
    assert_clean_failure(cli("run", "--task", "mri_translation", *SMOKE, "--out", tmp_path / "r", *args), fragment)
