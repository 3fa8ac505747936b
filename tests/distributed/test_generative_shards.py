"""Core's generative evaluation under two gloo processes scores the same samples as one process."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as tdist
import torch.multiprocessing as mp

OVERRIDES = ["eval.n_samples=24", "eval.batch_size=8", "eval.max_images=8", "trainer.progress=false"]


def _evaluate(out: Path) -> None:
    """Build stylegan2's smoke parts (seeded: the same generator on every rank) and write rank
    0's evaluation of the test split to ``out``."""
    from recon.config import build_config
    from recon.evaluation import evaluate_task
    from recon.plugins import get_task
    from recon.train.networks import setup_parts

    task = get_task("stylegan2")
    cfg = build_config(task, preset="smoke", overrides=OVERRIDES)
    torch.manual_seed(0)
    parts = setup_parts(task, cfg, None)
    result = evaluate_task(task, parts, cfg, parts.generator, "test", torch.device("cpu"))
    if not tdist.is_initialized() or tdist.get_rank() == 0:
        out.write_text(json.dumps(result))


def _rank(rank: int, port: int, out: str) -> None:
    os.environ.update(OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        _evaluate(Path(out))
    finally:
        tdist.barrier()
        tdist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(not (tdist.is_available() and tdist.is_gloo_available()), reason="no gloo backend")
def test_two_processes_score_the_samples_of_one(tmp_path: Path) -> None:
    from recon.metrics import inception_status

    if not inception_status()[0]:
        pytest.skip("no InceptionV3 weights: nothing is scored")
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    _evaluate(one)
    mp.spawn(_rank, args=(_free_port(), str(two)), nprocs=2, join=True)
    a, b = json.loads(one.read_text()), json.loads(two.read_text())
    assert a["n_images"] == b["n_images"] == 24
    assert a["metrics"]["fid"] > 0
    assert b["metrics"] == pytest.approx(a["metrics"], rel=1e-6)  # the same 24 samples, 3 batches over 2 ranks
    assert b["baselines"] == a["baselines"]  # scored on rank 0 alone
