"""Mixed precision (bf16 autocast, fp16 with per-network GradScalers) and trainer.compile on CPU."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch

from recon.train.checkpoint import load_checkpoint, save_checkpoint

BASE = ["--task", "mri_superres", "--preset", "smoke", "--device", "cpu",
        "--set", "trainer.progress=false", "--set", "trainer.d_warmup_steps=0",
        "--set", "trainer.max_steps=2", "--set", "trainer.sample_every=0"]


def _train_logs(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if '"g_loss"' in x]


@pytest.fixture(scope="module")
def eager_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fp32, uncompiled reference run."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("prec") / "eager"
    assert main(["run", *BASE, "--out", str(out)]) == 0
    return out


def test_bf16_autocast_runs_a_smoke_preset_end_to_end(cli, tmp_path: Path, eager_run: Path) -> None:
    res = cli("run", *BASE, "--set", "trainer.precision=bf16", "--out", tmp_path / "bf16")
    assert res.code == 0, res.err
    logs = _train_logs(tmp_path / "bf16")
    assert [r["step"] for r in logs] == [1, 2] and "r1" in logs[0]
    assert all(math.isfinite(r[k]) for r in logs for k in ("g_loss", "d_loss", "r1" if "r1" in r else "l1"))
    state = load_checkpoint(tmp_path / "bf16" / "checkpoints" / "last.pt")
    assert all(v.dtype == torch.float32 for v in state["nets"]["generator"].values() if v.is_floating_point())
    assert state["scalers"]["generator"] == {}  # bf16 needs no loss scaling
    # autocast really ran: bf16 rounding makes the losses differ from fp32, a little
    ref = _train_logs(eager_run)
    assert logs[0]["g_loss"] != ref[0]["g_loss"]
    assert logs[0]["g_loss"] == pytest.approx(ref[0]["g_loss"], rel=0.05)
    assert json.loads((tmp_path / "bf16" / "eval.json").read_text())["n_images"] == 4


def test_fp16_scaler_state_round_trips_through_a_checkpoint(cli, tmp_path: Path) -> None:
    run = tmp_path / "fp16"
    res = cli("run", *BASE, "--set", "trainer.precision=fp16", "--out", run)
    assert res.code == 0, res.err
    last = run / "checkpoints" / "last.pt"
    state = load_checkpoint(last)
    for net in ("generator", "discriminator"):
        assert state["scalers"][net]["scale"] > 0 and "_growth_tracker" in state["scalers"][net]
    # put distinctive values in the checkpoint; a resumed step must continue from them
    state["scalers"]["generator"].update(scale=1024.0, _growth_tracker=7)
    state["scalers"]["discriminator"].update(scale=256.0, _growth_tracker=3)
    save_checkpoint(state, last)
    res = cli("run", "--task", "mri_superres", "--resume", "--out", run, "--set", "trainer.max_steps=3")
    assert res.code == 0, res.err
    after = load_checkpoint(last)["scalers"]
    assert (after["generator"]["scale"], after["generator"]["_growth_tracker"]) == (1024.0, 8)
    assert (after["discriminator"]["scale"], after["discriminator"]["_growth_tracker"]) == (256.0, 4)


def test_fp32_checkpoint_resumes_in_fp16(cli, tmp_path: Path, eager_run: Path) -> None:
    import shutil

    run = tmp_path / "switch"
    shutil.copytree(eager_run, run)
    res = cli("run", "--task", "mri_superres", "--resume", "--out", run, "--set", "trainer.max_steps=3",
              "--set", "trainer.precision=fp16")
    assert res.code == 0, res.err
    assert load_checkpoint(run / "checkpoints" / "last.pt")["scalers"]["generator"]["scale"] > 0


def test_compile_trains_like_eager_and_saves_plain_keys(cli, tmp_path: Path, eager_run: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # aot_eager traces with dynamo/AOTAutograd like inductor but skips code generation
    # (minutes of C++ compilation on a CPU); benchmarks/gpu_check.sh runs inductor
    from torch._dynamo.utils import counters

    monkeypatch.setenv("RECON_COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    counters.clear()
    res = cli("run", *BASE, "--set", "trainer.compile=true", "--out", tmp_path / "compiled")
    graphs = counters["stats"]["unique_graphs"]
    torch._dynamo.reset()
    assert res.code == 0, res.err
    assert "torch.compile of the" not in res.err and graphs >= 3  # G, D, D of the G phase: compiled
    a = load_checkpoint(eager_run / "checkpoints" / "last.pt")
    b = load_checkpoint(tmp_path / "compiled" / "checkpoints" / "last.pt")
    for net in a["nets"]:
        assert a["nets"][net].keys() == b["nets"][net].keys()  # no _orig_mod. / module. prefixes
        for key in a["nets"][net]:
            torch.testing.assert_close(b["nets"][net][key], a["nets"][net][key], rtol=1e-4, atol=1e-6)
    from recon.train.inference import load_generator

    generator, _ = load_generator(tmp_path / "compiled" / "checkpoints" / "last.pt")
    assert type(generator).__name__ == "SRResNet"


def test_compile_failure_falls_back_to_eager_with_a_message(cli, tmp_path: Path, eager_run: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECON_COMPILE_BACKEND", "no_such_backend")
    res = cli("run", *BASE, "--set", "trainer.compile=true", "--out", tmp_path / "fallback")
    torch._dynamo.reset()
    assert res.code == 0, res.err
    assert "torch.compile of the generator failed" in res.err and "running it eagerly" in res.err
    a = load_checkpoint(eager_run / "checkpoints" / "last.pt")["nets"]["generator"]
    b = load_checkpoint(tmp_path / "fallback" / "checkpoints" / "last.pt")["nets"]["generator"]
    assert all(torch.equal(a[k], b[k]) for k in a)  # the fallback is plain eager training


@pytest.mark.skipif(not os.environ.get("RECON_SLOW_TESTS"),
                    reason="inductor generates and compiles C++ for minutes on a CPU; set RECON_SLOW_TESTS=1")
def test_compile_with_inductor_on_cpu_runs_or_falls_back(cli, tmp_path: Path) -> None:
    res = cli("run", *BASE, "--set", "trainer.compile=true", "--out", tmp_path / "inductor")
    torch._dynamo.reset()
    assert res.code == 0, res.err
    assert (tmp_path / "inductor" / "eval.json").is_file()
