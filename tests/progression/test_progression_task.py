"""mri_progression as a user sees it: the smoke run, eval.json, predict with --years/--group, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import SMOKE


def test_smoke_run_writes_the_run_directory(progression_run: Path) -> None:
    for name in ("config.yaml", "metrics.jsonl", "checkpoints/last.pt", "eval.json", "splits.json"):
        assert (progression_run / name).exists(), name
    assert list((progression_run / "samples").glob("*.png"))
    result = json.loads((progression_run / "eval.json").read_text())
    assert result["task"] == "mri_progression" and result["split"] == "test"
    assert result["baseline"]["name"] == "no-change"
    assert [b["name"] for b in result["baselines"]] == ["no-change", "group-mean"]
    for key in ("psnr", "ssim", "ventricle_change_error", "brain_change_error"):
        assert np.isfinite(result["metrics"][key]), key
    # the no-change baseline's volume-change error is the size of the true change (> 0)
    assert result["baselines"][0]["metrics"]["ventricle_change_error"] > 0


def _model(run: Path):
    from recon.api import load_model

    return load_model(run / "checkpoints" / "last.pt")


def _batch(n: int, years: float, group: int = 2) -> dict[str, torch.Tensor]:
    from recon_progression import data

    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task("mri_progression")
    cfg = build_config(task, "smoke")
    items = [task.build_dataset(cfg, "test")[i] for i in range(n)]
    batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    batch["years"] = torch.full((n, 1), float(years))
    batch["group"] = torch.stack([data.one_hot(group)] * n)
    return batch


def test_zero_interval_returns_the_baseline(progression_run: Path) -> None:
    model = _model(progression_run)
    batch = _batch(3, 0.0)
    with torch.no_grad():
        out, aux = model.parts.generate(model.parts.generator, batch)
    assert torch.allclose(out, batch["input"], atol=1e-5)  # exactly the baseline: far below the scan noise
    assert float(aux["field"].abs().max()) == 0.0


def test_predicted_atrophy_is_monotone_in_the_interval() -> None:
    """A trained-like generator (its velocity set to a ventricle-expanding field) predicts ventricles
    that grow and brains that shrink with every longer interval."""
    from recon_progression import simulate
    from recon_progression.data import cohort
    from recon_progression.metrics import volumes
    from recon_progression.networks import ProgressionGenerator

    from recon.config import build_config
    from recon.plugins import get_task

    cfg = build_config(get_task("mri_progression"), "smoke")
    c = cohort(cfg)
    generator = ProgressionGenerator(4, 2)
    generator.velocity = lambda baseline, group=None: c.velocity[:2]  # type: ignore[method-assign]
    base = torch.stack([simulate.visit(c.images[s], torch.Generator().manual_seed(s)) for s in range(2)])
    previous = [volumes(b[0].numpy()) for b in base]
    for years in (0.5, 1, 2, 3, 5):
        with torch.no_grad():
            out, _ = generator(base, torch.full((2,), float(years)), None)
        now = [volumes(o[0].numpy()) for o in out]
        for (v0, b0), (v1, b1) in zip(previous, now, strict=True):
            assert v1 > v0 and b1 < b0, years
        previous = now


def test_trained_model_atrophy_is_monotone(progression_run: Path) -> None:
    """The smoke model's deformation grows with the interval: |log-Jacobian| never decreases."""
    from recon_progression.warp import log_jacobian

    model = _model(progression_run)
    batch = _batch(2, 1.0)
    sizes = []
    for years in (0.0, 1.0, 2.0, 4.0):
        batch["years"] = torch.full((2, 1), years)
        with torch.no_grad():
            _, aux = model.parts.generate(model.parts.generator, batch)
        sizes.append(float(log_jacobian(aux["field"]).abs().mean()))
    assert sizes == sorted(sizes)


def _baseline_nifti(tmp_path: Path) -> Path:
    from recon_progression import simulate

    from tests.conftest import write_nifti

    from recon.config import build_config
    from recon.plugins import get_task
    from recon_progression.data import cohort

    c = cohort(build_config(get_task("mri_progression"), "smoke"))
    scan = simulate.visit(c.images[0], torch.Generator().manual_seed(0))[0].numpy()
    return write_nifti(tmp_path / "baseline.nii.gz", scan[:, :, None] * 1000, np.diag([2.0, 2.0, 2.0, 1.0]))


def test_predict_one_interval_and_a_series(cli, progression_run: Path, tmp_path: Path) -> None:
    import nibabel as nib

    baseline = _baseline_nifti(tmp_path)
    ck = progression_run / "checkpoints" / "last.pt"
    out = tmp_path / "followup.nii.gz"
    result = cli("predict", "--checkpoint", ck, baseline, "--years", "3", "--group", "AD", "-o", out)
    assert result.code == 0, result.err
    written = nib.load(str(out))
    assert written.shape == (80, 96, 1)
    assert np.allclose(written.affine, np.diag([2.0, 2.0, 2.0, 1.0]))
    assert 500 < float(np.asarray(written.dataobj).max()) <= 1001  # intensities back in the input's units

    series = tmp_path / "series" / "followup.nii.gz"
    series.parent.mkdir()
    result = cli("predict", "--checkpoint", ck, baseline, "--years", "0,1,2,5", "-o", series)
    assert result.code == 0, result.err
    for years in ("0", "1", "2", "5"):
        assert (series.parent / f"followup_{years}y.nii.gz").exists()
    assert (series.parent / "followup_montage.png").exists()
    again = cli("predict", "--checkpoint", ck, baseline, "--years", "0,1,2,5", "-o", series)
    assert again.code == 2 and "already exists; pass --force" in again.err
    assert cli("predict", "--checkpoint", ck, baseline, "--years", "0,1,2,5", "-o", series, "--force").code == 0
    zero = np.asarray(nib.load(str(series.parent / "followup_0y.nii.gz")).dataobj)
    assert np.allclose(zero, np.asarray(nib.load(str(baseline)).dataobj), atol=1.0)


@pytest.mark.parametrize("args, message", [
    (["--years", "-1"], "--years -1: intervals must be numbers >= 0"),
    (["--years", "soon"], "--years soon: give numbers of years"),
    (["--years", "2", "--group", "elderly"], "unknown group 'elderly'"),
    (["--group", "AD"], "--group: give the interval too"),
    ([], "give the interval with --years"),
])
def test_predict_refusals(cli, progression_run: Path, tmp_path: Path, args: list[str], message: str) -> None:
    baseline = _baseline_nifti(tmp_path)
    result = cli("predict", "--checkpoint", progression_run / "checkpoints" / "last.pt", baseline,
                 "-o", tmp_path / "out.nii.gz", *args)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1


def test_years_refused_for_a_task_without_time(cli, smoke_run: Path, tmp_path: Path) -> None:
    from tests.conftest import write_nifti

    image = write_nifti(tmp_path / "x.nii.gz", np.random.default_rng(0).random((16, 16, 4)))
    result = cli("predict", "--checkpoint", smoke_run / "checkpoints" / "last.pt", image,
                 "--years", "2", "-o", tmp_path / "y.nii.gz")
    assert result.code == 2
    assert "--years: task mri_superres does not take it" in result.err


def test_manifest_run_and_subject_splits(cli, manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("run", "--task", "mri_progression", *SMOKE, "--data", manifest, "--out", out,
                 "--set", "data.test_fraction=0.34", "--set", "data.val_fraction=0.17")
    assert result.code == 0, result.err
    record = json.loads((out / "splits.json").read_text())["sources"][0]
    sets = [set(record[k]) for k in ("train", "val", "test")]
    assert all(sets) and not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert json.loads((out / "eval.json").read_text())["n_images"] > 0


def _write_manifest(tmp_path: Path, rows: list[str], shapes: tuple = ((40, 48, 1), (40, 48, 1))) -> Path:
    from tests.conftest import write_nifti

    write_nifti(tmp_path / "b.nii.gz", np.ones(shapes[0]))
    write_nifti(tmp_path / "f.nii.gz", np.ones(shapes[1]))
    path = tmp_path / "m.csv"
    path.write_text("\n".join(["subject,baseline,followup,years,group", *rows]) + "\n")
    return path


@pytest.mark.parametrize("rows, shapes, message", [
    (["s1,b.nii.gz,missing.nii.gz,1,AD"], None, "no such file"),
    (["s1,b.nii.gz,f.nii.gz,-2,AD"], None, "years must be a number >= 0"),
    (["s1,b.nii.gz,f.nii.gz,1,AD"], ((40, 48, 1), (40, 40, 1)), "differs from baseline shape"),
    (["s1,b.nii.gz,f.nii.gz,1,old"], None, "unknown group 'old'"),
])
def test_manifest_refusals(cli, tmp_path: Path, rows: list[str], shapes, message: str) -> None:
    path = _write_manifest(tmp_path, rows, shapes or ((40, 48, 1), (40, 48, 1)))
    result = cli("run", "--task", "mri_progression", *SMOKE, "--data", path, "--out", tmp_path / "run")
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1


def test_report_scores_volume_changes_and_atrophy_maps(progression_run: Path, tmp_path: Path) -> None:
    from recon_progression.report import main

    out = tmp_path / "report.json"
    baseline = tmp_path / "b.nii.gz"
    assert main(["--checkpoint", str(progression_run / "checkpoints" / "last.pt"), "--json", str(out),
                 "--export-baseline", str(baseline)]) == 0
    result = json.loads(out.read_text())
    assert set(result["methods"]) == {"model", "no-change", "group-mean"}
    row = result["methods"]["no-change"]
    assert row["atrophy_map_mae"] > 0 and np.isnan(row["ventricle_change_corr"])
    assert np.isfinite(result["methods"]["group-mean"]["ventricle_change_corr"])
    assert baseline.exists()
    assert main(["--checkpoint", str(tmp_path / "missing.pt")]) == 2
