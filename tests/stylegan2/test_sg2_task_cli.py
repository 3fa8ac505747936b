"""`recon run / generate --task stylegan2` end to end: run directory, eval.json, PNGs, resume."""

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
# no Inception pass: for the tests that do not look at FID/KID
FAST = [*SMOKE, "--set", "eval.fid=false", "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0"]


@pytest.fixture(scope="module")
def sg2_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One smoke run with FID/KID on a handful of samples, shared by the read-only tests."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("sg2") / "run"
    code = main(["run", "--task", "stylegan2", *SMOKE, "--out", str(out), "--set", "eval.n_samples=4",
                 "--set", "eval.val_samples=4", "--set", "eval.max_images=4"])
    assert code == 0
    return out


def test_training_log_has_gan_terms_and_lazy_regularization(sg2_run: Path) -> None:
    records = [json.loads(line) for line in (sg2_run / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if "g_loss" in r]
    assert [r["step"] for r in train] == list(range(1, 7))
    assert all("d_loss" in r and "ada_p" in r for r in train)
    # reg_interval = g_reg_interval = 2 in the smoke preset: R1 (D) and path length (G) on steps 0, 2, 4
    assert [r["step"] for r in train if "r1" in r] == [1, 3, 5]
    assert [r["step"] for r in train if "g_reg" in r] == [1, 3, 5]
    assert all("l1" not in r for r in train)  # no reconstruction term
    for r in train:  # the G loss is the adversarial term (+ the lazy penalty when due)
        assert math.isclose(r["g_loss"], r["g_adv"] + r.get("g_reg", 0.0), rel_tol=1e-5)


def test_eval_json_has_fid_and_kid_or_says_why_not(sg2_run: Path) -> None:
    from recon.metrics import inception_status

    result = json.loads((sg2_run / "eval.json").read_text())
    assert result["task"] == "stylegan2" and result["split"] == "test"
    assert result["n_images"] == 4 and result["n_real"] == 4
    assert result["baseline"]["name"] == "gaussian"
    assert [b["name"] for b in result["baselines"]] == ["gaussian", "training images"]
    conventions = result["conventions"]
    assert conventions["n_generated"] == 4 and conventions["n_real"] == 4
    available, _ = inception_status()
    if available:
        for metrics in [result["metrics"]] + [b["metrics"] for b in result["baselines"]]:
            assert {"fid", "kid", "kid_std"} <= set(metrics)
            assert metrics["fid"] >= 0 and all(math.isfinite(v) for v in metrics.values())
        assert "inception" in conventions["inception_weights"].lower()
    else:
        assert result["metrics"] == {} and conventions["fid"].startswith("not computed")


def test_recon_eval_reproduces_the_run_evaluation(cli, sg2_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = cli("eval", "--checkpoint", sg2_run / "checkpoints" / "last.pt", "--json", out)
    assert result.code == 0, result.err
    assert "gaussian" in result.out and "training images" in result.out  # the printed table
    again, first = json.loads(out.read_text()), json.loads((sg2_run / "eval.json").read_text())
    assert again["metrics"] == first["metrics"] and again["baselines"] == first["baselines"]


def test_without_inception_weights_eval_notes_why(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import recon.metrics.inception as inception

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))  # no pt_inception file
    monkeypatch.setattr(inception, "fid_helper_model_path", lambda: None)  # no fid-helper package
    result = cli("run", "--task", "stylegan2", *FAST, "--set", "eval.fid=true", "--set", "trainer.max_steps=1",
                 "--out", tmp_path / "run")
    assert result.code == 0, result.err
    data = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert data["metrics"] == {} and data["baseline"]["metrics"] == {}
    assert data["conventions"]["fid"].startswith("not computed: no InceptionV3 weights")


def test_sample_grid_shows_generated_above_real(sg2_run: Path) -> None:
    from PIL import Image

    grids = sorted((sg2_run / "samples").glob("*.png"))
    assert [p.name for p in grids] == ["step_0000003.png", "step_0000006.png"]
    width, height = Image.open(grids[-1]).size
    assert height == 2 * (64 + 2)  # two rows (samples, reals) of 16 px images shown at 64 px
    assert width == 4 * (64 + 2)  # the 4 images of the sample batch


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


def test_generate_writes_n_pngs_reproducibly(cli, sg2_run: Path, tmp_path: Path) -> None:
    from PIL import Image

    ck = sg2_run / "checkpoints" / "last.pt"
    for name, n, seed in (("a", 3, 1), ("b", 5, 1), ("c", 3, 2)):
        result = cli("generate", "--checkpoint", ck, "-n", n, "-o", tmp_path / name, "--seed", seed)
        assert result.code == 0, result.err
    a, b, c = (_digests(tmp_path / name) for name in "abc")
    assert list(a) == ["000000.png", "000001.png", "000002.png"] and len(b) == 5
    assert all(b[name] == a[name] for name in a)  # image i depends on (seed, i) only
    assert all(c[name] != a[name] for name in a)
    image = Image.open(tmp_path / "a" / "000000.png")
    assert image.size == (16, 16) and image.mode == "L"
    assert np.asarray(image).std() > 0


def test_generate_refuses_a_file_as_output(cli, sg2_run: Path, tmp_path: Path) -> None:
    target = tmp_path / "file.png"
    target.write_bytes(b"x")
    result = cli("generate", "--checkpoint", sg2_run / "checkpoints" / "last.pt", "-n", 1, "-o", target)
    assert result.code == 2 and "not a folder" in result.err


def test_predict_points_to_generate(cli, sg2_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(b"")
    result = cli("predict", "--checkpoint", sg2_run / "checkpoints" / "last.pt", source, "-o", tmp_path / "o.png")
    assert result.code == 2 and "recon generate" in result.err


def test_ada_p_and_path_length_state_survive_resume(cli, tmp_path: Path) -> None:
    # 4 steps, resumed after 2: the lazy penalties (every 2 steps) run on both sides of the restart
    args = [*FAST, "--set", "ada.p=0.4", "--set", "ada.speed_kimg=0.1", "--set", "trainer.max_steps=4",
            "--set", "trainer.checkpoint_every=2"]
    full, part = tmp_path / "full", tmp_path / "part"
    assert cli("run", "--task", "stylegan2", *args, "--out", full).code == 0
    assert cli("run", "--task", "stylegan2", *args, "--out", part, "--set", "trainer.max_steps=2").code == 0
    resumed = cli("run", "--task", "stylegan2", "--resume", "--out", part, "--set", "trainer.max_steps=4")
    assert resumed.code == 0, resumed.err
    a = load_checkpoint(full / "checkpoints" / "last.pt")
    b = load_checkpoint(part / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 4
    assert float(a["augment"]["p"]) != pytest.approx(0.4)  # p moved (interval 1, 0.04 per step)
    assert float(a["g_reg"]["pl_mean"]) > 0  # the path length EMA has been updated
    for key in a["augment"]:
        if isinstance(a["augment"][key], torch.Tensor):
            assert torch.equal(a["augment"][key], b["augment"][key]), key
    assert a["augment"]["_extra_state"] == b["augment"]["_extra_state"]
    assert torch.equal(a["g_reg"]["pl_mean"], b["g_reg"]["pl_mean"])
    for name in a["nets"]:
        for key in a["nets"][name]:
            assert torch.equal(a["nets"][name][key], b["nets"][name][key]), f"{name}.{key}"


@pytest.mark.parametrize("setting, key", [("loss.l1=1.0", "loss.l1"), ("model.resolution=24", "model.resolution"),
                                          ("ada.p_max=1.5", "ada.p_max"), ("data.channels=2", "data.channels")])
def test_bad_settings_are_usage_errors(cli, tmp_path: Path, setting: str, key: str) -> None:
    result = cli("run", "--task", "stylegan2", *FAST, "--set", setting, "--out", tmp_path / "run")
    assert result.code == 2 and key in result.err
    assert "Traceback" not in result.err
