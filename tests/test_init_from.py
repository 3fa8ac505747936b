"""Fine-tuning: `recon run --init-from CKPT [--init-parts ...]` and `model.freeze`."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from recon.train.checkpoint import load_checkpoint

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]
QUIET = ["--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0"]


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def parent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkpoint of a 3-step smoke run of mri_superres (trained: its weights differ from a fresh run's)."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("parent") / "run"
    assert main(["run", "--task", "mri_superres", *SMOKE, *QUIET, "--out", str(out),
                 "--set", "trainer.max_steps=3"]) == 0
    return out / "checkpoints" / "last.pt"


def _trainer(run_dir: Path, *overrides: str, init_from: Path | None = None, parts: list[str] | None = None):
    """A Trainer of a new smoke run (built, not trained)."""
    from recon.config import build_config
    from recon.plugins import get_task
    from recon.train.trainer import Trainer

    task = get_task("mri_superres")
    cfg = build_config(task, "smoke", overrides=["trainer.progress=false", *overrides])
    if init_from is not None:
        cfg.trainer.init_from = str(init_from)
    if parts is not None:
        cfg.trainer.init_parts = parts
    run_dir.mkdir(parents=True)
    return Trainer(task, cfg, run_dir)


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_networks_and_ema_start_from_the_parent(parent: Path, tmp_path: Path) -> None:
    nets = load_checkpoint(parent)["nets"]
    trainer = _trainer(tmp_path / "child", init_from=parent)
    assert trainer.step == 0 and not trainer.opt_g.state_dict()["state"]  # a new run, fresh optimizers
    assert _equal(trainer.generator.state_dict(), nets["generator"])
    assert _equal(trainer.discriminator.state_dict(), nets["discriminator"])
    assert trainer.ema is not None
    assert _equal(trainer.ema.model.state_dict(), nets["generator"])  # from the generator, not the parent's EMA
    assert not _equal(nets["ema"], nets["generator"])


def test_init_parts_generator_leaves_a_fresh_discriminator(parent: Path, tmp_path: Path) -> None:
    nets = load_checkpoint(parent)["nets"]
    child = _trainer(tmp_path / "child", init_from=parent, parts=["generator"])
    fresh = _trainer(tmp_path / "fresh")
    assert _equal(child.generator.state_dict(), nets["generator"])
    assert not _equal(fresh.generator.state_dict(), nets["generator"])
    assert _equal(child.discriminator.state_dict(), fresh.discriminator.state_dict())  # same seed, untouched
    assert not _equal(child.discriminator.state_dict(), nets["discriminator"])


def test_frozen_layers_stay_and_the_run_records_its_parent(cli, parent: Path, tmp_path: Path) -> None:
    out = tmp_path / "ft"
    result = cli("run", "--task", "mri_superres", *SMOKE, *QUIET, "--out", out, "--init-from", parent,
                 "--set", "trainer.max_steps=2", "--set", "model.freeze=[head.*, body.0.*]")
    assert result.code == 0, result.err
    before, state = load_checkpoint(parent), load_checkpoint(out / "checkpoints" / "last.pt")
    g0, g1 = before["nets"]["generator"], state["nets"]["generator"]
    params = [name for name, _ in _trainer(tmp_path / "names").generator.named_parameters()]
    frozen = [n for n in params if n.startswith(("head.", "body.0."))]
    trained = [n for n in params if n not in frozen]
    assert frozen and trained
    assert all(torch.equal(g0[n], g1[n]) for n in frozen)
    assert all(not torch.equal(g0[n], g1[n]) for n in trained)
    assert len(state["optim"]["generator"]["param_groups"][0]["params"]) == len(trained)  # not in the optimizer
    config = yaml.safe_load((out / "config.yaml").read_text())["trainer"]
    assert config["init_from"] == str(parent.resolve())
    assert config["init_sha256"] == hashlib.sha256(parent.read_bytes()).hexdigest()
    assert config["init_parts"] == ["generator", "discriminator"]
    assert state["config"]["trainer"]["init_sha256"] == config["init_sha256"]  # in the checkpoint too


def test_an_unknown_freeze_pattern_is_refused(cli, parent: Path, tmp_path: Path) -> None:
    out = tmp_path / "ft"
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", out, "--init-from", parent,
                 "--set", "model.freeze=[hed.*]")
    assert result.code == 2
    line = _error_line(result.err)
    assert "model.freeze" in line and "'hed.*' matches no parameter" in line and "head.0.weight" in line
    assert not out.exists()


def test_mismatching_networks_are_refused_by_name(cli, parent: Path, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "ft"
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", out, "--init-from", parent,
                 "--set", "model.channels=16")
    assert result.code == 2
    line = _error_line(result.err)
    assert "does not fit this run's networks" in line
    assert "generator: head.0.weight (16, 1, 9, 9) vs (8, 1, 9, 9)" in line and "more" in line
    assert "model.* settings" in line
    assert not out.exists() and not out.parent.exists()  # nothing left behind
    # only D differs: initialising the generator alone is the way out, and it works
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", out, "--init-from", parent,
                 "--set", "model.d_channels=16", "--set", "trainer.max_steps=0")
    line = _error_line(result.err)
    assert result.code == 2 and "discriminator: features.0.weight" in line and "--init-parts generator" in line
    assert not out.exists()


def test_missing_corrupt_and_unsafe_parents_are_refused(cli, parent: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.pt").write_bytes(parent.read_bytes()[:4000])
    torch.save({**load_checkpoint(parent), "hook": os.system}, bad / "unsafe.pt")
    cases = {"missing.pt": "checkpoint not found", "corrupt.pt": "corrupt", "unsafe.pt": "refused to load"}
    for name, fragment in cases.items():
        out = tmp_path / f"out-{name}"
        result = cli("run", "--task", "mri_superres", *SMOKE, "--out", out, "--init-from", bad / name)
        assert result.code == 2, name
        line = _error_line(result.err)
        assert line.startswith("recon: error: --init-from") and fragment in line, line
        assert not out.exists()


def test_another_task_with_other_networks_is_refused(cli, parent: Path, tmp_path: Path) -> None:
    result = cli("run", "--task", "srgan", *SMOKE, "--out", tmp_path / "sr", "--init-from", parent)
    line = _error_line(result.err)
    assert result.code == 2 and "(task mri_superres) does not fit" in line and "tail.weight" in line
    assert not (tmp_path / "sr").exists()


def test_resume_of_a_fine_tuned_run_is_exact_and_never_reads_the_parent(cli, parent: Path, tmp_path: Path) -> None:
    copy = tmp_path / "parent.pt"
    shutil.copy(parent, copy)
    args = ["run", "--task", "mri_superres", *SMOKE, *QUIET, "--init-from", copy]
    assert cli(*args, "--out", tmp_path / "full", "--set", "trainer.max_steps=4").code == 0
    assert cli(*args, "--out", tmp_path / "part", "--set", "trainer.max_steps=2").code == 0
    copy.unlink()  # a resumed run restores its own checkpoint
    resumed = cli("run", "--task", "mri_superres", "--resume", "--out", tmp_path / "part",
                  "--set", "trainer.max_steps=4")
    assert resumed.code == 0, resumed.err
    a = load_checkpoint(tmp_path / "full" / "checkpoints" / "last.pt")
    b = load_checkpoint(tmp_path / "part" / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 4
    for name in a["nets"]:
        assert _equal(a["nets"][name], b["nets"][name]), name
    assert a["config"]["trainer"]["init_sha256"] == b["config"]["trainer"]["init_sha256"]
    saved = yaml.safe_load((tmp_path / "part" / "config.yaml").read_text())["trainer"]
    assert saved["init_from"] == str(copy.resolve())  # the parent stays recorded


def test_init_options_with_resume_are_refused(cli, parent: Path, tmp_path: Path) -> None:
    run_dir = parent.parent.parent
    result = cli("run", "--task", "mri_superres", "--resume", "--out", run_dir, "--init-from", parent)
    assert result.code == 2 and "--init-from with --resume" in _error_line(result.err)
    result = cli("run", "--task", "mri_superres", "--resume", "--out", run_dir,
                 "--set", f"trainer.init_from={parent}")
    assert result.code == 2 and "trainer.init_from with --resume" in _error_line(result.err)
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", tmp_path / "x", "--init-parts", "generator")
    assert result.code == 2 and "--init-parts needs --init-from" in _error_line(result.err)
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", tmp_path / "x", "--init-from", parent,
                 "--init-parts", "gen")
    assert result.code == 2 and "trainer.init_parts" in _error_line(result.err)
    assert not (tmp_path / "x").exists()
