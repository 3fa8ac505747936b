"""Crash safety: SIGKILL mid-run, then --resume, ends bit-identical; damaged checkpoints fall back."""

from __future__ import annotations

import errno
import random
import signal
from pathlib import Path

import pytest
import torch

from recon.train import checkpoint as ckpt
from recon.train.checkpoint import load_checkpoint
from tests.reliability.helpers import FAST, assert_same_training_state, checkpoint_step, logged_steps

STEPS = 16
EVERY_STEP = [*FAST, "--set", f"trainer.max_steps={STEPS}", "--set", "trainer.checkpoint_every=1"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The uninterrupted run every resumed run must match bit for bit (CPU)."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("reference") / "run"
    assert main(["run", "--task", "mri_superres", *EVERY_STEP, "--out", str(out)]) == 0
    return load_checkpoint(out / "checkpoints" / "last.pt")


def test_sigkill_at_a_random_step_then_resume_is_bit_identical(cli, background, reference, tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    kill_after = random.Random(20240508).randint(2, 6)  # the checkpoint to wait for; the kill lands later
    run = background("run", "--task", "mri_superres", *EVERY_STEP, "--out", run_dir)
    run.wait_for(lambda: checkpoint_step(run_dir) >= kill_after, what=f"checkpoint of step {kill_after}")
    assert run.alive(), "the run finished before it could be killed"
    run.proc.send_signal(signal.SIGKILL)
    assert run.finish() == -signal.SIGKILL
    killed_at = checkpoint_step(run_dir)
    assert kill_after <= killed_at < STEPS
    assert (run_dir / ".lock").exists()  # the dead run's lock is left behind ...

    resumed = cli("run", "--task", "mri_superres", "--resume", "--out", run_dir)
    assert resumed.code == 0, resumed.err  # ... and taken over: flock died with the process

    final = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    assert final["step"] == reference["step"] == STEPS
    assert_same_training_state(final, reference)
    assert logged_steps(run_dir) == list(range(1, STEPS + 1))  # no step lost or logged twice


def test_truncated_last_checkpoint_falls_back_to_previous(cli, reference, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    part = cli("run", "--task", "mri_superres", *EVERY_STEP, "--set", "trainer.max_steps=4", "--out", run_dir)
    assert part.code == 0, part.err
    last = run_dir / "checkpoints" / "last.pt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])  # a torn write

    resumed = cli("run", "--task", "mri_superres", "--resume", "--out", run_dir, "--set", f"trainer.max_steps={STEPS}")
    assert resumed.code == 0, resumed.err
    warning = [line for line in resumed.err.splitlines() if line.startswith("recon: warning:")]
    assert len(warning) == 1 and "truncated or corrupt" in warning[0] and "prev.pt (step 3)" in warning[0]
    final = load_checkpoint(last)
    assert final["step"] == STEPS
    assert_same_training_state(final, reference)


def test_both_checkpoints_damaged_is_a_clear_error(cli, smoke_run: Path, tmp_path: Path) -> None:
    directory = tmp_path / "run" / "checkpoints"
    directory.mkdir(parents=True)
    (directory / "last.pt").write_bytes(b"PK\x03\x04 torn")
    (directory / "prev.pt").write_bytes((smoke_run / "checkpoints" / "last.pt").read_bytes()[:4096])
    result = cli("run", "--task", "mri_superres", "--resume", "--out", tmp_path / "run")
    assert result.code == 2 and "Traceback" not in result.err
    assert "prev.pt: truncated or corrupt checkpoint" in result.err


def _state(step: int) -> dict:
    return {"format": ckpt.FORMAT, "format_version": ckpt.FORMAT_VERSION, "task": "t", "step": step,
            "config": {}, "nets": {"generator": {"w": torch.full((64, 64), float(step))}}}


def test_previous_checkpoint_kept_until_the_new_one_is_complete(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "last.pt"
    ckpt.save_checkpoint(_state(1), path)
    ckpt.save_checkpoint(_state(2), path)
    real_save = torch.save
    seen = []

    def observing_save(obj, handle):  # while the new file is written, both old ones are whole
        seen.append((load_checkpoint(path)["step"], load_checkpoint(tmp_path / "prev.pt")["step"]))
        real_save(obj, handle)

    monkeypatch.setattr(torch, "save", observing_save)
    ckpt.save_checkpoint(_state(3), path)
    assert seen == [(2, 1)]
    assert load_checkpoint(path)["step"] == 3 and load_checkpoint(tmp_path / "prev.pt")["step"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt", "prev.pt"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EDQUOT])
def test_failed_write_leaves_both_checkpoints_untouched(tmp_path: Path, monkeypatch, code: int) -> None:
    from recon.train.faults import OutputWriteError

    path = tmp_path / "last.pt"
    ckpt.save_checkpoint(_state(1), path)
    ckpt.save_checkpoint(_state(2), path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def half_then_full(obj, handle):
        handle.write(b"PK\x03\x04" + b"\0" * 1000)
        raise OSError(code, "No space left on device", str(handle.name))

    monkeypatch.setattr(torch, "save", half_then_full)
    with pytest.raises(OutputWriteError, match=r"last\.pt\.tmp.*the previous checkpoint .*last\.pt is intact"):
        ckpt.save_checkpoint(_state(3), path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary file left
    assert ckpt.load_latest(tmp_path)["step"] == 2
