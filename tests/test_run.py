"""`recon run` end to end: the run directory, eval.json, reproducibility and exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import yaml

from recon.train.checkpoint import load_checkpoint

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]


def test_run_directory_contents(smoke_run: Path) -> None:
    assert (smoke_run / "config.yaml").is_file()
    splits = json.loads((smoke_run / "splits.json").read_text())
    assert splits  # which slabs/files went into train, val and test
    assert (smoke_run / "checkpoints" / "last.pt").is_file()
    assert list((smoke_run / "samples").glob("*.png"))
    assert list((smoke_run / "tensorboard").glob("events.out.tfevents.*"))
    config = yaml.safe_load((smoke_run / "config.yaml").read_text())
    assert config["task"] == "mri_superres" and config["trainer"]["max_steps"] == 6
    records = [json.loads(line) for line in (smoke_run / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if "g_loss" in r]
    assert [r["step"] for r in train] == list(range(1, 7))
    assert all(r["img_per_s"] > 0 for r in train)
    assert "d_loss" not in train[0] and "d_loss" in train[-1]  # discriminator warm-up of 2 steps
    assert any("r1" in r for r in train)  # lazy R1 every 2 steps
    assert any("val/psnr" in r for r in records)


def test_eval_json_structure(smoke_run: Path) -> None:
    result = json.loads((smoke_run / "eval.json").read_text())
    assert result["task"] == "mri_superres" and result["split"] == "test"
    assert result["n_images"] == 4
    assert set(result["metrics"]) >= {"psnr", "ssim", "nmse"}
    assert result["baseline"]["name"] == "bicubic"
    assert set(result["baseline"]["metrics"]) >= {"psnr", "ssim", "nmse"}
    assert result["baselines"][0] == result["baseline"]
    assert result["conventions"]["name"] == "fastmri"


def test_sample_png_shows_input_output_target(smoke_run: Path) -> None:
    from PIL import Image

    sample = sorted((smoke_run / "samples").glob("*.png"))[-1]
    image = Image.open(sample).convert("RGB")
    width, height = image.size
    assert width == 3 * 66  # three 64-px panels side by side (2-px gaps)
    assert height == 22 + 4 * 2 * 66  # a caption band, 4 examples each with a zoomed detail row
    header = np.asarray(image)[:22]
    assert (header < 128).any()  # the captions are drawn
    amber = np.all(np.asarray(image)[22:] == [255, 204, 0], axis=-1)
    assert amber.any()  # the zoomed window is outlined


def test_samples_put_the_compared_model_beside_the_adversarial_one(cli, smoke_run: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "run"
    result = cli("run", "--task", "mri_superres", *SMOKE, "--set", "trainer.max_steps=2",
                 "--set", "trainer.sample_every=2", "--set", "loss.adversarial=0.01", "--set", "eval.max_images=2",
                 "--out", out,
                 "--set", f"eval.compare_checkpoint={smoke_run / 'checkpoints' / 'last.pt'}")
    assert result.code == 0, result.err
    width, _ = Image.open(out / "samples" / "step_0000002.png").size
    assert width == 4 * 66  # input | compared | adversarial | target


def test_a_compared_checkpoint_does_not_change_the_run(cli, smoke_run: Path, tmp_path: Path) -> None:
    """Loading ``eval.compare_checkpoint`` for the step-3 samples must not draw from the global RNG
    that DiffAugment uses in steps 4-6: the run trains the same weights as without the comparison."""
    args = ["run", "--task", "mri_superres", *SMOKE, "--set", "loss.d_augment=translation,cutout",
            "--set", "eval.max_images=1", "--set", "eval.st_lpips=false"]
    assert cli(*args, "--out", tmp_path / "alone").code == 0
    assert cli(*args, "--out", tmp_path / "compared",
               "--set", f"eval.compare_checkpoint={smoke_run / 'checkpoints' / 'last.pt'}").code == 0
    alone = load_checkpoint(tmp_path / "alone" / "checkpoints" / "last.pt")["nets"]
    compared = load_checkpoint(tmp_path / "compared" / "checkpoints" / "last.pt")["nets"]
    for name in alone:
        for key in alone[name]:
            assert torch.equal(alone[name][key], compared[name][key]), (name, key)


def test_same_seed_same_weights(cli, tmp_path: Path) -> None:
    args = ["run", "--task", "mri_superres", *SMOKE, "--set", "trainer.max_steps=3"]
    assert cli(*args, "--out", tmp_path / "a").code == 0
    assert cli(*args, "--out", tmp_path / "b").code == 0
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / "last.pt")["nets"]
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / "last.pt")["nets"]
    for name in a:
        for key in a[name]:
            assert torch.equal(a[name][key], b[name][key]), f"{name}.{key}"


def test_resume_continues_exactly(cli, tmp_path: Path) -> None:
    full = tmp_path / "full"
    assert cli("run", "--task", "mri_superres", *SMOKE, "--out", full).code == 0
    part = tmp_path / "part"
    assert cli("run", "--task", "mri_superres", *SMOKE, "--out", part, "--set", "trainer.max_steps=3").code == 0
    resumed = cli("run", "--task", "mri_superres", "--resume", "--out", part, "--set", "trainer.max_steps=6")
    assert resumed.code == 0, resumed.err
    a = load_checkpoint(full / "checkpoints" / "last.pt")
    b = load_checkpoint(part / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 6
    for group in ("nets", "optim"):
        for name in a[group]:
            flat_a, flat_b = _flatten(a[group][name]), _flatten(b[group][name])
            assert flat_a.keys() == flat_b.keys()
            for key in flat_a:
                assert torch.equal(flat_a[key], flat_b[key]), f"{group}.{name}.{key}"
    steps = [json.loads(line)["step"] for line in (part / "metrics.jsonl").read_text().splitlines()
             if "g_loss" in line]
    assert steps == list(range(1, 7))  # no duplicated or missing log lines after resume


def test_existing_run_needs_resume(cli, smoke_run: Path) -> None:
    before = (smoke_run / "checkpoints" / "last.pt").read_bytes()
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", smoke_run)
    assert result.code == 2 and "--resume" in result.err
    assert (smoke_run / "checkpoints" / "last.pt").read_bytes() == before


def test_python_dash_m(subprocess_cli) -> None:
    result = subprocess_cli("--help")
    assert result.code == 0 and "run" in result.out


def _flatten(tree, prefix: str = "") -> dict[str, torch.Tensor]:
    out = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            out.update(_flatten(v, f"{prefix}{i}."))
    elif isinstance(tree, torch.Tensor):
        out[prefix] = tree
    else:
        out[prefix] = torch.tensor(float(tree)) if isinstance(tree, (int, float, bool)) else torch.tensor(0.0)
    return out


def test_logged_values_are_window_means(cli, tmp_path: Path) -> None:
    """A lazy penalty due on some steps shows in every log line whose window contains it."""
    out = tmp_path / "w"
    assert cli("run", "--task", "mri_superres", *SMOKE, "--out", out, "--set", "trainer.log_every=3",
               "--set", "trainer.d_warmup_steps=0", "--set", "trainer.eval_every=0").code == 0
    train = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if "g_loss" in line]
    assert [r["step"] for r in train] == [3, 6]
    assert all("r1" in r and "d_loss" in r for r in train)  # R1 is due on steps 0, 2 and 4
