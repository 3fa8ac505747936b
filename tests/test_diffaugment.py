"""DiffAugment on D's inputs: the transforms, gradients, and ``loss.d_augment`` in a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from recon.augment import DiffAugment
from recon.augment.diffaugment import cutout, translate


def test_translation_shifts_every_channel_together_and_fills_zeros() -> None:
    torch.manual_seed(3)
    x = torch.rand(6, 2, 16, 16) + 1.0  # no zeros in the input
    y = translate(x)
    for n in range(6):
        # the nonzero block of the output equals a block of the input moved by one (dy, dx)
        rows = torch.nonzero(y[n, 0].sum(1)).flatten()
        cols = torch.nonzero(y[n, 0].sum(0)).flatten()
        r0, c0 = int(rows[0]), int(cols[0])
        block = y[n, :, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        src_r = 0 if r0 > 0 else 16 - block.shape[-2]
        src_c = 0 if c0 > 0 else 16 - block.shape[-1]
        assert torch.equal(block, x[n, :, src_r:src_r + block.shape[-2], src_c:src_c + block.shape[-1]])
        assert max(16 - block.shape[-2], 16 - block.shape[-1]) <= 2  # at most 1/8 of 16 px


def test_cutout_zeroes_a_quarter_at_most_and_gradients_flow() -> None:
    torch.manual_seed(0)
    x = torch.ones(64, 1, 16, 16, requires_grad=True)
    y = cutout(x)
    zero_fraction = (y == 0).float().mean(dim=(1, 2, 3))
    assert (zero_fraction <= 0.25 + 1e-6).all() and zero_fraction.mean() > 0.1
    DiffAugment("translation,cutout,brightness,contrast")(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_unknown_policy_is_refused(cli, tmp_path: Path) -> None:
    result = cli("run", "--task", "mri_superres", "--preset", "smoke", "--out", tmp_path / "r",
                 "--set", "loss.d_augment=translation,rotate")
    assert result.code == 2 and "loss.d_augment: unknown DiffAugment policy rotate" in result.err
    result = cli("run", "--task", "stylegan2", "--preset", "smoke", "--out", tmp_path / "s",
                 "--set", "loss.d_augment=translation")
    assert result.code == 2 and "already augments D's inputs" in result.err


@pytest.mark.parametrize("task", ["mri_motion", "mri_translation"])  # conditional discriminators
def test_a_run_trains_with_diffaugment(cli, tmp_path: Path, task: str) -> None:
    out = tmp_path / "run"
    result = cli("run", "--task", task, "--preset", "smoke", "--out", out, "--set", "trainer.progress=false",
                 "--set", "trainer.max_steps=4", "--set", "trainer.eval_every=0",
                 "--set", "loss.d_augment=translation,cutout")
    assert result.code == 0, result.err
    logged = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    assert any("d_loss" in r for r in logged)


@pytest.mark.parametrize("task", ["mri_superres", "mri_motion"])  # a plain and a conditional discriminator
def test_ada_is_available_to_every_2d_task(cli, tmp_path: Path, task: str) -> None:
    """``loss.d_augment=ada``: p starts at 0, is adjusted from D's logits on the reals every 4 D
    steps (a tiny ada_speed_kimg makes each adjustment visible in a smoke run), logged as
    ``ada_p`` and saved in the checkpoint."""
    out = tmp_path / "run"
    result = cli("run", "--task", task, "--preset", "smoke", "--out", out, "--set", "trainer.progress=false",
                 "--set", "trainer.eval_every=0", "--set", "trainer.d_warmup_steps=0",
                 "--set", "loss.d_augment=ada:bg", "--set", "loss.ada_speed_kimg=0.004")
    assert result.code == 0, result.err
    logged = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    p = [r["ada_p"] for r in logged if "ada_p" in r]
    assert len(p) == 6 and p[:3] == [0.0] * 3  # the first adjustment comes with the 4th D step
    if task == "mri_superres":  # its D separates the reals at once (r_t > 0.6): p rises
        assert p[-1] > 0
    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True)
    assert float(state["augment"]["p"]) == pytest.approx(p[-1])


@pytest.mark.parametrize(("task", "value", "message"), [
    ("mri_superres", "ada:xyz", "unknown ADA preset 'xyz'"),
    ("mri_superres", "translation:bg", "only ada takes a ':PRESET' suffix"),
    ("mri_superres_3d", "translation", "trains on volumes"),
    ("mri_superres_3d", "ada", "trains on volumes"),
    ("stylegan2", "ada", "its own ADA section"),
])
def test_bad_d_augment_is_refused_before_training(cli, tmp_path: Path, task: str, value: str, message: str) -> None:
    result = cli("run", "--task", task, "--preset", "smoke", "--out", tmp_path / "r",
                 "--set", f"loss.d_augment={value}")
    assert result.code == 2 and message in result.err and not (tmp_path / "r").exists()
