"""The LDL artifact loss: its map against a direct NumPy computation, its gating by the EMA
residual, gradients, and ``loss.artifact`` in a run (and where it is refused)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from recon.losses import artifact_loss, artifact_map
from recon.losses.artifacts import local_variance


def _reference_map(target: np.ndarray, output: np.ndarray, ema: np.ndarray, window: int = 7) -> np.ndarray:
    """Liang et al. 2022, written out pixel by pixel for one image ``(C, H, W)``."""
    r = np.abs(target - output).sum(0)
    r_ema = np.abs(target - ema).sum(0)
    pad = window // 2
    padded = np.pad(r, pad, mode="reflect")
    local = np.empty_like(r)
    for i in range(r.shape[0]):
        for j in range(r.shape[1]):
            local[i, j] = padded[i:i + window, j:j + window].var(ddof=1)
    weight = r.var(ddof=1) ** 0.2 * local
    weight[r < r_ema] = 0.0
    return weight


def test_map_matches_the_published_definition() -> None:
    g = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, 20, 24, generator=g, dtype=torch.float64)
    output = target + 0.1 * torch.randn(target.shape, generator=g, dtype=torch.float64)
    ema = target + 0.1 * torch.randn(target.shape, generator=g, dtype=torch.float64)
    got = artifact_map(target, output, ema).numpy()
    for n in range(2):
        expected = _reference_map(target[n].numpy(), output[n].numpy(), ema[n].numpy())
        np.testing.assert_allclose(got[n, 0], expected, rtol=1e-4, atol=1e-9)  # float32 map
    assert (got == 0).any() and (got > 0).any()  # pixels where the EMA is worse are not penalised


def test_no_penalty_where_the_generator_beats_its_ema_and_gradients_reach_the_output() -> None:
    target = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    output = (target + 0.05 * torch.randn(target.shape, generator=torch.Generator().manual_seed(2)))
    worse_ema = target + 0.5
    assert artifact_map(target, output, worse_ema).abs().sum() == 0
    output = output.requires_grad_(True)
    loss = artifact_loss(output, target, target.clone())  # the EMA is perfect: every error counts
    loss.backward()
    assert loss > 0 and output.grad is not None and output.grad.abs().sum() > 0
    flat = torch.full((1, 1, 9, 9), 0.3)
    assert torch.allclose(local_variance(flat), torch.zeros_like(flat), atol=1e-7)


def test_a_run_logs_the_artifact_term(cli, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("run", "--task", "mri_superres", "--preset", "smoke", "--out", out, "--set", "trainer.progress=false",
                 "--set", "trainer.max_steps=4", "--set", "trainer.eval_every=0", "--set", "loss.artifact=100")
    assert result.code == 0, result.err
    logged = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    assert any(r.get("artifact", 0) > 0 for r in logged)


def test_artifact_loss_needs_an_ema_and_a_reconstruction_target(cli, tmp_path: Path) -> None:
    result = cli("run", "--task", "mri_superres", "--preset", "smoke", "--out", tmp_path / "a",
                 "--set", "loss.artifact=1", "--set", "trainer.ema_decay=0")
    assert result.code == 2 and "trainer.ema_decay > 0" in result.err
    result = cli("run", "--task", "stylegan2", "--preset", "smoke", "--out", tmp_path / "b", "--set", "loss.artifact=1")
    assert result.code == 2 and "loss.artifact" in result.err
