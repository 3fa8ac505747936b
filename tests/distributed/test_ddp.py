"""torchrun DDP on CPU (gloo): 2 ranks train exactly like 1, resume across world sizes,
evaluate sharded, and only rank 0 writes; gradient accumulation equals one big batch.

The task is ``mri_superres --preset smoke`` with the discriminator active from step 0 and
``model.d_norm=none``: the smoke discriminator has BatchNorm, whose statistics over a
rank's (or micro-batch's) 4 samples differ from those over 8, so only a network without
BatchNorm can match to float tolerance.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recon.train.checkpoint import load_checkpoint
from recon.train.runtime import DistInfo
from recon.train.sampler import StepBatchSampler

BASE = ["--task", "mri_superres", "--preset", "smoke", "--device", "cpu",
        "--set", "trainer.progress=false", "--set", "trainer.batch_size=8",
        "--set", "trainer.d_warmup_steps=0", "--set", "model.d_norm=none",
        "--set", "trainer.max_steps=2"]
TOL = 1e-6  # measured: G 7.5e-9, D 1.3e-7 (fp32 all-reduce order)


def _gloo() -> bool:
    import torch.distributed as tdist

    return tdist.is_available() and tdist.is_gloo_available()


needs_gloo = pytest.mark.skipif(not _gloo(), reason="this PyTorch build has no gloo backend")


def max_abs_diff(a: dict, b: dict) -> dict[str, float]:
    """Largest absolute weight difference per network of two checkpoints."""
    out = {}
    for net in a["nets"]:
        assert a["nets"][net].keys() == b["nets"][net].keys()
        out[net] = max((a["nets"][net][k].double() - b["nets"][net][k].double()).abs().max().item()
                       for k in a["nets"][net])
    return out


@pytest.fixture(scope="module")
def one_rank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 process, global batch 8, 2 steps (in-process)."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("ddp") / "one"
    assert main(["run", *BASE, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """``torchrun --nproc_per_node 2``: global batch 8 = 2 ranks x 2 micro-batches of 2."""
    if not _gloo():
        pytest.skip("this PyTorch build has no gloo backend")
    out = tmp_path_factory.mktemp("ddp") / "two"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "recon", "run", *BASE, "--set", "trainer.grad_accum=2", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_step_sampler_splits_the_global_batch_across_ranks() -> None:
    for world in (1, 2, 4):
        for accum in (1, 2):
            per_rank = [iter(StepBatchSampler(8, accum, DistInfo(world, r, r), start_step=3)) for r in range(world)]
            for step in (3, 4):
                seen = [i for it in per_rank for _ in range(accum) for i in next(it)]
                assert seen == list(range(step * 8, step * 8 + 8)), (world, accum, step)


@needs_gloo
def test_two_ranks_train_like_one(one_rank: Path, two_ranks: tuple) -> None:
    a = load_checkpoint(one_rank / "checkpoints" / "last.pt")
    b = load_checkpoint(two_ranks[0] / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 2
    assert b["world_size"] == 2
    diffs = max_abs_diff(a, b)
    print(f"max |W_2ranks - W_1rank| after 2 steps: {diffs}")
    assert set(diffs) == {"generator", "discriminator", "ema"}
    assert all(d < TOL for d in diffs.values()), diffs
    # the logged losses are the global-batch losses (reduced over ranks)
    logs_a = [json.loads(x) for x in (one_rank / "metrics.jsonl").read_text().splitlines() if '"g_loss"' in x]
    logs_b = [json.loads(x) for x in (two_ranks[0] / "metrics.jsonl").read_text().splitlines() if '"g_loss"' in x]
    for ra, rb in zip(logs_a, logs_b, strict=True):
        for key in ("g_loss", "d_loss", "l1", "d_real"):
            assert rb[key] == pytest.approx(ra[key], rel=1e-5), key
    assert "r1" in logs_b[0]  # lazy R1 ran (through the DDP-wrapped discriminator)


@needs_gloo
def test_sharded_evaluation_gathers_every_image(one_rank: Path, two_ranks: tuple) -> None:
    a = json.loads((one_rank / "eval.json").read_text())
    b = json.loads((two_ranks[0] / "eval.json").read_text())
    assert b["n_images"] == a["n_images"] == 4 and b["n_volumes"] == a["n_volumes"]
    for key, value in a["metrics"].items():
        assert b["metrics"][key] == pytest.approx(value, rel=1e-5), key
    assert b["baseline"] == a["baseline"]  # the bicubic baseline does not depend on training


@needs_gloo
def test_only_rank_zero_writes(two_ranks: tuple) -> None:
    out, proc = two_ranks
    assert proc.stdout.count("run directory:") == 1
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines() if '"g_loss"' in x]
    assert steps == [1, 2]
    assert len(list((out / "tensorboard").glob("events.out.tfevents.*"))) == 1
    assert [p.name for p in (out / "samples").iterdir()] == ["step_0000002.png"]
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "config.yaml", "eval.json", "metrics.jsonl",
                                                     "samples", "splits.json", "tensorboard"]
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["last.pt"]


@needs_gloo
def test_resume_two_ranks_into_one(one_rank: Path, two_ranks: tuple, tmp_path: Path, cli) -> None:
    cont_a, cont_b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(one_rank, cont_a)
    shutil.copytree(two_ranks[0], cont_b)
    more = ["--set", "trainer.max_steps=4", "--set", "trainer.progress=false"]
    assert cli("run", "--task", "mri_superres", "--resume", "--out", cont_a, *more).code == 0
    res = cli("run", "--task", "mri_superres", "--resume", "--out", cont_b, *more, "--set", "trainer.grad_accum=1")
    assert res.code == 0, res.err
    a = load_checkpoint(cont_a / "checkpoints" / "last.pt")
    b = load_checkpoint(cont_b / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 4 and b["world_size"] == 1
    diffs = max_abs_diff(a, b)
    print(f"max |W_(2 ranks -> 1) - W_1rank| after 4 steps: {diffs}")
    assert all(d < TOL for d in diffs.values()), diffs
    steps = [json.loads(x)["step"] for x in (cont_b / "metrics.jsonl").read_text().splitlines() if '"g_loss"' in x]
    assert steps == [1, 2, 3, 4]


def test_gradient_accumulation_equals_one_big_batch(one_rank: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "accum"
    res = cli("run", *BASE, "--set", "trainer.grad_accum=4", "--out", out)
    assert res.code == 0, res.err
    diffs = max_abs_diff(load_checkpoint(one_rank / "checkpoints" / "last.pt"),
                         load_checkpoint(out / "checkpoints" / "last.pt"))
    print(f"max |W_accum4 - W_batch8| after 2 steps: {diffs}")
    assert all(d < TOL for d in diffs.values()), diffs


def test_batch_not_divisible_by_ranks_times_accum_is_a_usage_error(cli, tmp_path: Path) -> None:
    res = cli("run", *BASE, "--set", "trainer.grad_accum=3", "--out", tmp_path / "bad")
    assert res.code == 2
    assert "divisible" in res.err and "Traceback" not in res.err
