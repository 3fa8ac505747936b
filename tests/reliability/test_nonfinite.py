"""NaN/Inf in a loss or a gradient, injected by a real plugin task, under each trainer.nan_policy."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from recon.train.checkpoint import load_checkpoint
from tests.reliability.helpers import FAST, logged_steps, one_error_line

STEPS = 6
LR = 1e-4  # the smoke preset's trainer.lr_g (the TrainerConfig default)


def run(cli, out: Path, *sets: str):
    args = ["run", "--task", "fault_probe", *FAST, "--out", out, "--set", f"trainer.max_steps={STEPS}",
            "--set", "trainer.checkpoint_every=2"]
    for item in sets:
        args += ["--set", item]
    return cli(*args)


def records(run_dir: Path) -> dict[int, dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return {r["step"]: r for r in map(json.loads, lines) if "g_loss" in r}


def warnings_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("recon: warning:")]


def weights_finite(run_dir: Path) -> bool:
    nets = load_checkpoint(run_dir / "checkpoints" / "last.pt")["nets"]
    return all(torch.isfinite(t).all() for net in nets.values() for t in net.values() if t.is_floating_point())


@pytest.mark.usefixtures("fault_plugin")
class TestNanPolicy:
    def test_skip_drops_the_step_and_halves_the_learning_rate(self, cli, tmp_path: Path) -> None:
        result = run(cli, tmp_path / "r", "trainer.nan_policy=skip", "fault.steps=[3]")
        assert result.code == 0, result.err
        (warning,) = warnings_of(result.err)
        assert warning.startswith("recon: warning: non-finite g_loss=nan, d_loss=nan")
        assert "at step 3" in warning and "step skipped (1/3)" in warning
        logged = records(tmp_path / "r")
        assert sorted(logged) == [1, 2, 4, 5, 6]  # step 3 was dropped, not trained on
        assert logged[2]["lr_g"] == LR and logged[4]["lr_g"] == logged[6]["lr_g"] == LR / 2  # and stays halved
        # the NaN batch went through D's BatchNorm too: its statistics were restored, so the
        # later checkpoints are finite and were written (a poisoned one is never written)
        assert load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["step"] == STEPS
        assert weights_finite(tmp_path / "r")

    def test_rollback_reloads_the_last_good_checkpoint(self, cli, tmp_path: Path) -> None:
        result = run(cli, tmp_path / "r", "fault.steps=[4]")  # default policy: rollback
        assert result.code == 0, result.err
        (warning,) = warnings_of(result.err)
        assert "at step 4" in warning and "rolled back to step 2 (1/3), learning rate halved" in warning
        assert logged_steps(tmp_path / "r") == list(range(1, STEPS + 1))  # replayed steps logged once
        logged = records(tmp_path / "r")
        assert logged[2]["lr_g"] == LR and logged[3]["lr_g"] == LR / 2  # step 3 was replayed at half rate
        final = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")
        assert final["step"] == STEPS and final["trainer_state"]["rollbacks"] == 1
        assert weights_finite(tmp_path / "r")

    def test_default_rolls_back_three_times_then_stops(self, cli, tmp_path: Path) -> None:
        result = run(cli, tmp_path / "r", "fault.steps=[4]", "fault.transient=false")  # the fault persists
        assert result.code == 3
        rollbacks = warnings_of(result.err)
        assert [w.split("(")[-1].split(")")[0] for w in rollbacks] == ["1/3", "2/3", "3/3"]
        line = one_error_line(result.err)
        assert line.startswith("recon: error: non-finite g_loss=nan")
        assert "at step 4; gave up after 3 recoveries" in line and "last checkpoint (step 2) is intact" in line
        assert load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["step"] == 2
        assert weights_finite(tmp_path / "r")
        assert not (tmp_path / "r" / "eval.json").exists()

    def test_stop_names_the_step_and_the_loss(self, cli, tmp_path: Path) -> None:
        result = run(cli, tmp_path / "r", "trainer.nan_policy=stop", "fault.steps=[3]", "fault.value=inf")
        assert result.code == 3
        line = one_error_line(result.err)
        assert line.startswith("recon: error: non-finite g_loss=inf")
        assert "at step 3; stopped (trainer.nan_policy=stop); the last checkpoint (step 2) is intact" in line
        assert len(result.err.strip().splitlines()) == 1
        assert logged_steps(tmp_path / "r") == [1, 2]

    def test_non_finite_gradients_with_finite_losses_are_caught(self, cli, tmp_path: Path) -> None:
        result = run(cli, tmp_path / "r", "trainer.nan_policy=stop", "fault.steps=[2]", "fault.kind=grad")
        assert result.code == 3
        line = one_error_line(result.err)
        assert "non-finite gradients at step 2; stopped" in line
        (record,) = records(tmp_path / "r").values()
        assert math.isfinite(record["g_loss"])  # the losses of step 1 were fine; step 2's too, only grads broke
