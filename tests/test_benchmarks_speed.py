"""The speed suite's rounds, its width-matched FLOP reference and its table, on made-up timings
(the measured smoke run is checked in tests/test_benchmarks.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


def _rounds(*medians: float) -> list[list[float]]:
    """One round per value: steps around it (seconds), its median exactly the value."""
    return [[m * 0.9, m, m * 1.2] for m in medians]


def test_ratios_are_medians_over_rounds_with_their_min_max_spread() -> None:
    from benchmarks.speed import summarize_rounds

    wall = {"recon": _rounds(0.10, 0.12, 0.11), "plain": _rounds(0.10, 0.10, 0.10),
            "monai": [[], [], []], "basicsr": _rounds(0.05, 0.06, 0.05), "reference": _rounds(0.01, 0.01, 0.02)}
    cpu = {"recon": _rounds(0.2, 0.2, 0.2), "plain": _rounds(0.2, 0.25, 0.2), "basicsr": [[], [], []]}
    out = summarize_rounds(wall, cpu)
    assert out["per_round"]["ratio_plain"] == [1.0, 1.2, 1.1]
    assert out["ratio_plain"] == 1.1 and out["spread"]["ratio_plain"] == [1.0, 1.2]
    assert out["recon_ms"] == 110.0 and out["plain_ms"] == 100.0 and out["basicsr_ms"] == 50.0
    assert out["ratio_basicsr"] == 2.0 and out["spread"]["ratio_basicsr"] == [2.0, 2.2]
    assert out["ratio_plain_cpu"] == 1.0 and out["spread"]["ratio_plain_cpu"] == [0.8, 1.0]
    assert out["monai_ms"] is None and out["ratio_monai"] is None and "ratio_monai" not in out["spread"]
    assert out["per_round"]["reference_ms"] == [10.0, 10.0, 20.0]
    assert "ratio_basicsr_cpu" not in out["spread"]


def test_reference_widths_are_each_networks_flop_weighted_median() -> None:
    from benchmarks.flop_reference import ConvReference, network_widths

    # the discriminator of mri_superres's default preset: 1, 32, 64, 128 input channels
    widths = network_widths({"generator": {32: 10.0, 1: 0.1},
                             "discriminator": {1: 0.04, 32: 0.9, 64: 0.9, 128: 0.3}, "none": {}})
    assert widths == {"generator": 32, "discriminator": 64}
    ref = ConvReference(2, 8, [4, 8], torch.device("cpu"))
    assert ref.shapes == [[2, 4, 8, 8], [2, 8, 8, 8]]
    forward = sum(2 * 2 * c * c * 9 * 8 * 8 for c in (4, 8))
    assert ref.flops == 3 * forward  # forward, input gradient, weight gradient
    ref()
    assert all(conv.weight.grad is not None and x.grad is not None for conv, x, _ in ref.parts)
    summary = ref.summary(0.01)
    assert summary["gflops_per_s"] == pytest.approx(ref.flops / 1e-5 / 1e9, rel=1e-3)


def _record(rounds: bool) -> dict:
    trainer = {"recon_ms": 250.0, "plain_ms": 251.0, "monai_ms": 260.0, "monai": "ok", "basicsr_ms": None,
               "basicsr": "skipped: no", "ratio_plain": 0.996, "ratio_plain_cpu": 0.99, "ratio_monai": 0.96,
               "ratio_basicsr": None, "syncs_per_step": 1}
    flops = {"efficiency": 0.41, "achieved_gflops_per_s": 120.0, "reference": {"shape": [16, 64, 64, 64],
                                                                              "gflops_per_s": 290.0}}
    if rounds:
        trainer.update(rounds=5, steps=10, spread={"ratio_plain": [0.98, 1.01], "ratio_monai": [0.95, 0.99],
                                                   "ratio_plain_cpu": [0.98, 1.0]})
        flops.update(spread=[0.4, 0.43], reference={"shapes": [[16, 32, 64, 64], [16, 64, 64, 64]],
                                                    "gflops_per_s": 300.0})
    data = {"ratio": 90.0, "delivered_samples_per_s": 5000.0, "consumed_samples_per_s": 60.0}
    return {"task": "mri_superres", "status": "ok", "batch_size": 16, "patch_size": 64, "trainer": trainer,
            "flops": flops, "data": data}


def test_speed_table_shows_spreads_and_says_what_they_are() -> None:
    from benchmarks.report import speed_table

    table = speed_table([_record(rounds=True), {"task": "srgan", "status": "failed", "reason": "boom"}])
    assert "| 0.996 [0.980–1.010] (CPU time 0.990) | 0.960 [0.950–0.990] | - | 1 |" in table
    assert "0.410 [0.400–0.430] (120.0 / 300.0 GFLOP/s, 32/64 ch)" in table
    assert "| 90.0 (5000 / 60.0 img/s) |" in table and "| srgan | *failed*: boom |" in table
    assert "median over 5 rounds of 10 steps" in table and "[min–max] over the rounds" in table
    old = speed_table([_record(rounds=False)])  # a record from before the rounds
    assert "| 0.996 (CPU time 0.990) | 0.960 |" in old and "64 ch" in old and "rounds" not in old


def test_speed_rounds_below_one_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from benchmarks.__main__ import main
    from benchmarks.speed import speed_settings

    assert main(["--suite", "speed", "--smoke", "--speed-rounds", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--speed-rounds must be at least 1" in capsys.readouterr().err
    assert speed_settings(smoke=True) == {"steps": 2, "rounds": 5, "warmup": 1, "data_batches": 6}
    assert speed_settings(smoke=False)["steps"] == 10 and speed_settings(False, 4, 7)["rounds"] == 7
