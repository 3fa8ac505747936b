"""Core's generative evaluation under two gloo processes scores the same samples as one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.distributed as tdist

from tests import gloo
from tests.gloo import run_on_two_ranks

OVERRIDES = ["eval.n_samples=24", "eval.batch_size=8", "eval.max_images=8", "trainer.progress=false"]


def evaluate_stylegan2(out: Path, overrides: list[str] = OVERRIDES) -> None:
    """Build stylegan2's smoke parts with ``overrides`` (seeded: the same generator on every
    rank) and write rank 0's evaluation of the test split to ``out``."""
    from recon.config import build_config
    from recon.evaluation import evaluate_task
    from recon.plugins import get_task
    from recon.train.networks import setup_parts

    task = get_task("stylegan2")
    cfg = build_config(task, preset="smoke", overrides=overrides)
    task.validate(cfg)
    torch.manual_seed(0)
    parts = setup_parts(task, cfg, None)
    result = evaluate_task(task, parts, cfg, parts.generator, "test", torch.device("cpu"))
    if not tdist.is_initialized() or tdist.get_rank() == 0:
        out.write_text(json.dumps(result))


@pytest.mark.skipif(not gloo.available, reason="no gloo backend")
def test_two_processes_score_the_samples_of_one(tmp_path: Path) -> None:
    from recon.metrics import inception_status

    if not inception_status()[0]:
        pytest.skip("no InceptionV3 weights: nothing is scored")
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    evaluate_stylegan2(one)
    run_on_two_ranks(evaluate_stylegan2, two)
    a, b = json.loads(one.read_text()), json.loads(two.read_text())
    assert a["n_images"] == b["n_images"] == 24
    assert a["metrics"]["fid"] > 0
    assert b["metrics"] == pytest.approx(a["metrics"], rel=1e-6)  # the same 24 samples, 3 batches over 2 ranks
    assert b["baselines"] == a["baselines"]  # scored on rank 0 alone
