"""SIGINT/SIGTERM during training: checkpoint the current step, exit 130/143, say how to resume."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

import pytest

from recon.train.checkpoint import load_checkpoint
from tests.reliability.helpers import FAST, logged_steps, one_error_line

STEPS = 40
# no periodic checkpoint: whatever is on disk after the signal was written by the signal path
NO_CHECKPOINTS = [*FAST, "--set", f"trainer.max_steps={STEPS}", "--set", "trainer.checkpoint_every=1000"]


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_checkpoints_the_current_step_and_prints_the_resume_command(
        cli, background, tmp_path: Path, sig: signal.Signals, code: int) -> None:
    run_dir = tmp_path / "run"
    run = background("run", "--task", "mri_superres", *NO_CHECKPOINTS, "--out", run_dir)
    lock = run_dir / ".lock"
    run.wait_for(lambda: lock.exists() and lock.read_text().startswith(f"{run.pid} "), what="the run's lock")
    second = cli("run", "--task", "mri_superres", *NO_CHECKPOINTS, "--out", run_dir)  # same run dir, still alive
    assert second.code == 2, second.err
    assert f"in use by another recon run (pid {run.pid})" in second.err

    run.wait_for(lambda: len(logged_steps(run_dir)) >= 2, what="two training steps")
    run.proc.send_signal(sig)
    assert run.finish(timeout=120) == code
    line = one_error_line(run.stderr())
    saved = load_checkpoint(run_dir / "checkpoints" / "last.pt")["step"]
    assert saved == logged_steps(run_dir)[-1] < STEPS  # the step in flight was finished and saved
    assert line.startswith(f"recon: interrupted by {sig.name} at step {saved}; checkpoint saved in ")
    command = line.split("resume with: ", 1)[1]
    assert command == f"recon run --task mri_superres --out {shlex.quote(str(run_dir.resolve()))} --resume"
    assert not (run_dir / ".lock").exists()

    if sig == signal.SIGTERM:  # the printed command, run as printed, finishes the run
        resumed = cli(*shlex.split(command)[1:])
        assert resumed.code == 0, resumed.err
        assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["step"] == STEPS
        assert logged_steps(run_dir) == list(range(1, STEPS + 1))
