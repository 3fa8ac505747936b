"""Values the parser accepts by type but the trainer cannot use: exit 2 before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from recon.train.checkpoint import load_checkpoint
from tests.reliability.helpers import FAST, one_error_line


@pytest.mark.parametrize("override, fragment", [
    ("trainer.log_every=0", "trainer.log_every=0 is out of range (must be >= 1)"),  # was a ZeroDivisionError
    ("trainer.grad_accum=0", "trainer.grad_accum=0 is out of range"),  # was a ZeroDivisionError
    ("trainer.batch_size=0", "trainer.batch_size=0 is out of range"),
    ("trainer.checkpoint_every=-1", "trainer.checkpoint_every=-1 is out of range (must be >= 0)"),
    ("trainer.lr_g=-0.001", "trainer.lr_g=-0.001 is out of range (must be > 0)"),  # was torch's ValueError
    ("trainer.lr_d=.nan", "trainer.lr_d=nan is out of range"),
    ("trainer.betas=[1.5, 0.9]", "trainer.betas=[1.5, 0.9] must be two numbers in [0, 1)"),
    ("trainer.ema_decay=2", "trainer.ema_decay=2.0 is out of range (must be >= 0 and <= 1)"),
    ("trainer.num_workers=-1", "trainer.num_workers=-1 is out of range"),
    ("loss.reg_interval=0", "loss.reg_interval=0 is out of range (must be >= 1)"),
    ("data.test_fraction=0.9", "data.val_fraction + data.test_fraction must be below 1"),
    ("eval.batch_size=0", "eval.batch_size=0 is out of range"),
    ("seed=18446744073709551616", "seed=18446744073709551616 is out of range"),  # was torch's overflow
])
def test_out_of_range_values_are_refused_before_any_work(cli, tmp_path: Path, override: str, fragment: str) -> None:
    result = cli("run", "--task", "mri_superres", *FAST, "--set", override, "--out", tmp_path / "r")
    assert result.code == 2
    assert fragment in one_error_line(result.err)
    assert not (tmp_path / "r").exists()


def test_checkpoint_every_zero_means_only_at_the_end(cli, tmp_path: Path) -> None:
    """``trainer.checkpoint_every=0`` used to end the run with a ZeroDivisionError."""
    result = cli("run", "--task", "mri_superres", *FAST, "--set", "trainer.max_steps=2",
                 "--set", "trainer.checkpoint_every=0", "--out", tmp_path / "r")
    assert result.code == 0, result.err
    assert load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["step"] == 2
    assert not (tmp_path / "r" / "checkpoints" / "prev.pt").exists()  # written once
