"""`recon run / generate --task progan` end to end, 2D and 3D: run directory, schedule, eval.json, files, resume."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from recon.train.checkpoint import load_checkpoint

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]
FAST = [*SMOKE, "--set", "eval.fid=false", "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0"]
SMOKE3D = ["--preset", "smoke3d", "--set", "trainer.progress=false", "--set", "eval.fid=false",
           "--set", "trainer.eval_every=0"]


@pytest.fixture(scope="module")
def pg_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 2D smoke run (4 -> 8 -> 16) with FID/KID on a handful of samples."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("pg") / "run"
    assert main(["run", "--task", "progan", *SMOKE, "--out", str(out), "--set", "eval.n_samples=4",
                 "--set", "eval.val_samples=4", "--set", "eval.max_images=4"]) == 0
    return out


@pytest.fixture(scope="module")
def pg3_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 3D smoke run (4^3 -> 8^3 crops of the MNI152 brain), anatomy metrics without Inception."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("pg3") / "run"
    assert main(["run", "--task", "progan", *SMOKE3D, "--out", str(out)]) == 0
    return out


def _records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_log_follows_the_growth_schedule(pg_run: Path) -> None:
    train = [r for r in _records(pg_run) if "g_loss" in r]
    assert [r["step"] for r in train] == list(range(1, 7))
    # phase_steps 1: 4x4, fade to 8 (alpha 0), 8x8, fade to 16 (alpha 0), then 16x16
    assert [(r["pg_level"], r["pg_alpha"]) for r in train] == [(0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (2, 1)]
    assert all({"d_loss", "gp", "drift", "g_adv"} <= set(r) for r in train)
    for r in train:
        assert math.isclose(r["g_loss"], r["g_adv"], rel_tol=1e-6)


def test_eval_json_scores_model_and_baselines(pg_run: Path) -> None:
    from recon.metrics import inception_status

    result = json.loads((pg_run / "eval.json").read_text())
    assert result["task"] == "progan" and result["n_images"] == 4
    assert [b["name"] for b in result["baselines"]] == ["gaussian", "training images"]
    if inception_status()[0]:
        for metrics in [result["metrics"]] + [b["metrics"] for b in result["baselines"]]:
            assert {"fid", "kid"} <= set(metrics) and all(math.isfinite(v) for v in metrics.values())
    grids = sorted(p.name for p in (pg_run / "samples").glob("*.png"))
    assert grids == ["step_0000003.png", "step_0000006.png"]


def _digests(folder: Path, pattern: str) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob(pattern))}


def test_generate_writes_pngs_reproducibly(cli, pg_run: Path, tmp_path: Path) -> None:
    from PIL import Image

    ck = pg_run / "checkpoints" / "last.pt"
    for name, n, seed in (("a", 2, 1), ("b", 3, 1), ("c", 2, 2)):
        result = cli("generate", "--checkpoint", ck, "-n", n, "-o", tmp_path / name, "--seed", seed)
        assert result.code == 0, result.err
    a, b, c = (_digests(tmp_path / name, "*.png") for name in "abc")
    assert list(a) == ["000000.png", "000001.png"] and len(b) == 3
    assert all(b[k] == a[k] for k in a) and all(c[k] != a[k] for k in a)
    image = Image.open(tmp_path / "a" / "000000.png")
    assert image.size == (16, 16) and image.mode == "L" and np.asarray(image).std() > 0


def test_3d_run_scores_montages_and_generates_nifti(cli, pg3_run: Path, tmp_path: Path) -> None:
    import nibabel as nib

    train = [r for r in _records(pg3_run) if "g_loss" in r]
    assert [r["pg_level"] for r in train] == [0, 1, 1, 1, 1, 1]  # 4^3 -> 8^3
    result = json.loads((pg3_run / "eval.json").read_text())
    assert "anat_w1_brain" in result["metrics"] and "24x8" in result["conventions"]["real_images"]
    result = cli("generate", "--checkpoint", pg3_run / "checkpoints" / "last.pt", "-n", 2, "-o", tmp_path / "v")
    assert result.code == 0, result.err
    files = sorted((tmp_path / "v").glob("*.nii.gz"))
    assert [f.name for f in files] == ["000000.nii.gz", "000001.nii.gz"]
    volume = nib.load(str(files[0]))
    assert volume.shape == (8, 8, 8) and np.allclose(np.diag(volume.affine)[:3], 4.0)  # 1 mm / volume_scale 0.25
    assert np.asarray(volume.dataobj).std() > 0


def test_resume_in_the_middle_of_a_fade_is_bit_exact(cli, tmp_path: Path) -> None:
    # phase_steps 3: steps 0-2 at 4x4, 3-5 fade to 8x8 (alpha 0, 1/3, 2/3), 6-8 at 8x8: stopped after step 4
    # (trained at alpha 1/3; the next trains at 2/3) and resumed to step 7
    args = [*FAST, "--set", "model.phase_steps=3", "--set", "trainer.max_steps=7",
            "--set", "trainer.checkpoint_every=5"]
    full, part = tmp_path / "full", tmp_path / "part"
    assert cli("run", "--task", "progan", *args, "--out", full).code == 0
    assert cli("run", "--task", "progan", *args, "--out", part, "--set", "trainer.max_steps=5").code == 0
    middle = load_checkpoint(part / "checkpoints" / "last.pt")
    assert middle["step"] == 5 and float(middle["nets"]["generator"]["stage_alpha"]) == pytest.approx(1 / 3)
    resumed = cli("run", "--task", "progan", "--resume", "--out", part, "--set", "trainer.max_steps=7")
    assert resumed.code == 0, resumed.err
    a, b = load_checkpoint(full / "checkpoints" / "last.pt"), load_checkpoint(part / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 7
    for name in a["nets"]:
        for key in a["nets"][name]:
            assert torch.equal(a["nets"][name][key], b["nets"][name][key]), f"{name}.{key}"
    for name in a["optim"]:
        for index, state in a["optim"][name]["state"].items():
            for key, value in state.items():
                assert torch.equal(value, b["optim"][name]["state"][index][key]), f"{name}.{index}.{key}"
    steps = {r["step"]: r for r in _records(part) if "g_loss" in r}
    assert steps[6]["pg_alpha"] == pytest.approx(2 / 3) and steps[6]["pg_level"] == 1  # resumed mid-fade
    assert steps[6]["d_loss"] == next(r for r in _records(full) if r.get("step") == 6 and "d_loss" in r)["d_loss"]


@pytest.mark.parametrize("setting, key", [("loss.l1=1.0", "loss.l1"), ("model.resolution=24", "model.resolution"),
                                          ("data.channels=2", "data.channels"), ("model.spatial_dims=4",
                                                                                 "model.spatial_dims")])
def test_bad_settings_are_usage_errors(cli, tmp_path: Path, setting: str, key: str) -> None:
    result = cli("run", "--task", "progan", *FAST, "--set", setting, "--out", tmp_path / "run")
    assert result.code == 2 and key in result.err and "Traceback" not in result.err


def test_predict_points_to_generate(cli, pg_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(b"")
    result = cli("predict", "--checkpoint", pg_run / "checkpoints" / "last.pt", source, "-o", tmp_path / "o.png")
    assert result.code == 2 and "recon generate" in result.err


def test_recon_eval_reproduces_the_run_evaluation(cli, pg3_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = cli("eval", "--checkpoint", pg3_run / "checkpoints" / "last.pt", "--json", out)
    assert result.code == 0, result.err
    again, first = json.loads(out.read_text()), json.loads((pg3_run / "eval.json").read_text())
    assert again["metrics"] == first["metrics"] and again["baselines"] == first["baselines"]
