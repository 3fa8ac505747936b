"""``python -m benchmarks.gpu_check`` (and ``benchmarks/gpu_check.sh``) dry-run on the CPU:
results.json against the schema, the time budget, ``--append`` and the README's GPU table.

The smoke runs here are mri_superres only; the compile comparison and the DDP run are left out
(inductor takes minutes on a CPU) except in one short run with the ``aot_eager`` backend and the
smoke preset. The README is checked with a fabricated CUDA record.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "benchmarks" / "schema.json"
RUN_FIELDS = {"task", "precision", "preset", "status", "reason", "wall_s", "step_ms", "steps_timed", "batch_size",
              "peak_mem_mb", "peak_reserved_mb", "returncode"}


def _validate(results: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(results)


def _gpu_check(*args: str, timeout: int = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "--device", "cpu", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("gpucheck")
    proc = _gpu_check("--tasks", "mri_superres", "--precisions", "fp32,bf16", "--budget-s", "120",
                      "--compile-tasks", "none", "--no-ddp", "--out", str(out))
    return out, proc


def test_dry_run_writes_a_schema_valid_results_json(dry_run: tuple[Path, subprocess.CompletedProcess]) -> None:
    out, proc = dry_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((out / "results.json").read_text())
    _validate(results)
    gpu = results["gpu"]
    assert results["suite"] == "gpu" and gpu["device"] == "cpu" and gpu["machine"]["gpu"] is None
    assert [(r["task"], r["precision"]) for r in gpu["runs"]] == [("mri_superres", "fp32"), ("mri_superres", "bf16")]
    for run in gpu["runs"]:
        assert RUN_FIELDS <= run.keys()
        assert run["status"] == "ok" and run["reason"] is None and run["returncode"] == 0
        assert run["wall_s"] > 0 and run["step_ms"] > 0 and run["steps_timed"] >= 1 and run["batch_size"] >= 1
        assert run["peak_mem_mb"] is None  # no device memory on a CPU
        assert (Path(run["run_dir"]) / "eval.json").is_file()  # trained and evaluated end to end
    assert gpu["compile"] == [] and "ddp" not in gpu
    md = (out / "results.md").read_text()
    assert "## GPU check" in md and "| mri_superres |" in md


def test_step_time_is_the_median_of_the_logged_windows(dry_run: tuple[Path, subprocess.CompletedProcess]) -> None:
    import statistics

    from benchmarks.gpu_runs import step_times

    out, _ = dry_run
    run = json.loads((out / "results.json").read_text())["gpu"]["runs"][0]
    rows = [json.loads(line) for line in (Path(run["run_dir"]) / "metrics.jsonl").read_text().splitlines()
            if '"img_per_s"' in line]
    expected = [1e3 * run["batch_size"] / r["img_per_s"] for r in rows[1:]]  # first window: start-up
    assert step_times(Path(run["run_dir"]) / "metrics.jsonl", run["batch_size"]) == pytest.approx(expected)
    assert run["step_ms"] == pytest.approx(statistics.median(expected), abs=0.01)


def test_an_exhausted_budget_skips_the_rest_and_still_writes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from benchmarks.gpu_check import main

    code = main(["--device", "cpu", "--tasks", "mri_superres,srgan", "--precisions", "fp32,bf16",
                 "--budget-s", "0", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    results = json.loads((tmp_path / "results.json").read_text())
    _validate(results)
    gpu = results["gpu"]
    records = gpu["runs"] + gpu["compile"] + [gpu["ddp"]]
    assert len(gpu["runs"]) == 4 and len(gpu["compile"]) == 2
    assert all(r["status"] == "skipped" and r["reason"].startswith("budget") for r in records)
    assert "skipped" in (tmp_path / "results.md").read_text()


def test_the_budget_stops_a_run_that_outlasts_it(tmp_path: Path) -> None:
    # 3D super-resolution in fp16 on a CPU takes seconds per step: its smoke run surely outlasts 2 s
    proc = _gpu_check("--tasks", "mri_superres_3d,srgan", "--precisions", "fp16", "--budget-s", "2",
                      "--compile-tasks", "none", "--no-ddp", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    _validate(results)
    first, second = results["gpu"]["runs"]
    assert first["status"] == "skipped" and first["reason"].startswith("budget: stopped")
    assert second["status"] == "skipped"
    assert second["reason"].startswith("budget")
    assert results["gpu"]["wall_s"] < 60  # stopped, not run to the end


def test_budget_clock_and_reasons() -> None:
    from benchmarks.gpu_runs import Budget, budget_reason

    now = [100.0]
    budget = Budget(10, clock=lambda: now[0])
    assert not budget.exhausted() and budget.left() == 10
    now[0] = 111.0
    assert budget.exhausted() and budget.spent() == 11
    assert budget_reason(budget).startswith("budget")
    other = Budget(10, clock=lambda: 0.0)
    other.interrupted = True
    assert other.exhausted() and budget_reason(other).startswith("interrupted")


def test_compile_and_ddp_records(tmp_path: Path) -> None:
    proc = _gpu_check("--tasks", "mri_superres", "--precisions", "fp32", "--budget-s", "240",
                      "--compile-tasks", "mri_superres", "--compile-preset", "smoke", "--compile-steps", "2",
                      "--compile-warmup", "1", "--out", str(tmp_path), env={"RECON_COMPILE_BACKEND": "aot_eager"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    _validate(results)
    (comp,) = results["gpu"]["compile"]
    assert comp["status"] == "ok" and comp["backend"] == "aot_eager" and comp["fell_back"] == []
    assert comp["speedup"] == pytest.approx(comp["eager"]["step_ms"] / comp["compiled"]["step_ms"], rel=1e-2)
    ddp = results["gpu"]["ddp"]  # a CPU dry run: 2 gloo processes
    assert ddp["backend"] == "gloo" and ddp["status"] == "ok", ddp
    assert "torch.distributed.run" in ddp["command"] and "--nproc_per_node 2" in ddp["command"]


def test_ddp_is_skipped_with_the_gpu_count_when_fewer_than_two(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from benchmarks.gpu_ddp import ddp_smoke
    from benchmarks.gpu_runs import Budget

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    rec = ddp_smoke("cuda", "bf16", tmp_path, Budget(100))
    assert rec["status"] == "skipped" and rec["reason"] == "1 GPU visible; DDP needs 2" and rec["backend"] == "nccl"


# -- merging and the README ---------------------------------------------------------------------
def fake_gpu() -> dict[str, Any]:
    """A gpu section as a CUDA machine would write it."""
    def run(task: str, precision: str, step: float, peak: float) -> dict[str, Any]:
        return {"task": task, "precision": precision, "preset": "smoke", "status": "ok", "reason": None,
                "run_dir": "x", "returncode": 0, "wall_s": 6.0, "batch_size": 4, "step_ms": step, "steps_timed": 5,
                "peak_mem_mb": peak, "peak_reserved_mb": peak + 100}

    variant = {"step_ms": 40.0, "first_step_s": 0.2, "batch_size": 16, "peak_mem_mb": 900.0,
               "peak_reserved_mb": 1000.0}
    return {
        "created": "2027-01-02T03:04:05", "command": "python -m benchmarks.gpu_check", "wall_s": 398.0,
        "budget_s": 420, "device": "cuda",
        "machine": {"device": "cuda", "torch": "2.9.0", "cuda": "12.8", "count": 1, "gpu": "NVIDIA H100",
                    "gpus": ["NVIDIA H100"], "cudnn": 91000, "driver": "570.1", "capability": "9.0",
                    "memory_gb": 79.1, "bf16": True, "nccl": "2.26.2"},
        "tasks": ["mri_superres", "srgan"], "precisions": ["fp32", "bf16", "fp16"],
        "runs": [run("mri_superres", "fp32", 12.5, 321.0), run("mri_superres", "bf16", 9.75, 250.0),
                 {"task": "mri_superres", "precision": "fp16", "preset": "smoke", "status": "failed",
                  "reason": "recon: error: boom", "returncode": 1, "wall_s": 1.0},
                 run("srgan", "fp32", 20.0, 512.0), run("srgan", "bf16", 15.0, 400.0),
                 {"task": "srgan", "precision": "fp16", "preset": "smoke", "status": "skipped",
                  "reason": "budget: the 420 s budget was spent"}],
        "compile": [{"task": "mri_superres", "preset": "default", "precision": "bf16", "steps": 20, "warmup": 5,
                     "backend": "inductor", "status": "ok", "reason": None, "wall_s": 90.0, "eager": variant,
                     "compiled": {**variant, "step_ms": 32.0, "first_step_s": 45.0}, "speedup": 1.25,
                     "fell_back": []}],
        "ddp": {"task": "mri_superres", "nproc": 2, "gpus": 1, "backend": "nccl", "precision": "bf16",
                "status": "skipped", "reason": "1 GPU visible; DDP needs 2"},
    }


@pytest.fixture
def full_results(tmp_path: Path) -> Path:
    """A copy of a committed full results directory (quality, tradeoff, speed, scaling)."""
    source = REPO / "benchmarks" / "results" / "2026-12-05"
    out = tmp_path / "results"
    out.mkdir()
    shutil.copy(source / "results.json", out / "results.json")
    return out


def test_append_adds_the_gpu_section_and_keeps_the_rest(full_results: Path, capsys: pytest.CaptureFixture) -> None:
    from benchmarks.gpu_check import main

    before = json.loads((full_results / "results.json").read_text())
    code = main(["--device", "cpu", "--tasks", "mri_superres", "--budget-s", "0", "--out", str(full_results),
                 "--append"])
    assert code == 0, capsys.readouterr().err
    after = json.loads((full_results / "results.json").read_text())
    _validate(after)
    assert {k: v for k, v in after.items() if k != "gpu"} == before
    assert after["gpu"]["tasks"] == ["mri_superres"]
    md = (full_results / "results.md").read_text()
    assert "## Quality" in md and "## GPU check" in md


def test_suite_append_keeps_the_gpu_section() -> None:
    from benchmarks.append import merge_results

    old = {"schema_version": 1, "created": "a", "command": "c", "smoke": False, "machine": {}, "tasks": ["t"],
           "suite": "speed", "wall_s": 1.0, "figures": [], "speed": [], "gpu": fake_gpu()}
    new = {**{k: old[k] for k in ("schema_version", "smoke", "machine")}, "created": "b", "command": "d",
           "tasks": ["t"], "figures": [], "quality": [], "commands": [{"command": "d", "created": "b", "wall_s": 1.0,
                                                                       "machine": {}}]}
    merged, _ = merge_results(old, new, ["quality"], log=lambda _: None)
    assert merged["gpu"] == old["gpu"]


def test_readme_shows_the_gpu_table_under_the_speed_table(full_results: Path) -> None:
    from benchmarks.__main__ import main

    readme = full_results.parent / "README.md"
    readme.write_text("# T\n<!-- results:start -->\nold\n<!-- results:end -->\ntail\n")
    assert main(["--update-readme", str(full_results), "--readme", str(readme)]) == 0
    without = readme.read_text()
    assert "GPU check" not in without
    results = json.loads((full_results / "results.json").read_text())
    results["gpu"] = fake_gpu()
    _validate(results)
    (full_results / "results.json").write_text(json.dumps(results))
    assert main(["--update-readme", str(full_results), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith(without.split("<!-- results:end -->")[0].rstrip("\n"))  # the rest as it was
    assert text.index("| recon step (ms)") < text.index("**GPU check**") < text.index("<!-- results:end -->")
    assert "NVIDIA H100 x1, CUDA 12.8, torch 2.9.0, driver 570.1" in text
    assert "| task (smoke preset) | fp32 | bf16 | fp16 |" in text
    assert "| mri_superres | 12.5 ms / 321 MiB | 9.8 ms / 250 MiB | *failed* |" in text
    assert "| srgan | 20.0 ms / 512 MiB | 15.0 ms / 400 MiB | *skipped* |" in text
    assert "mri_superres 1.25x (40.0 → 32.0 ms/step)" in text
    assert "DDP (2 processes, nccl, mri_superres smoke): skipped (1 GPU visible; DDP needs 2)." in text
    assert text.endswith("<!-- results:end -->\ntail\n")


def test_wrapper_script_help() -> None:
    proc = subprocess.run(["bash", str(REPO / "benchmarks" / "gpu_check.sh"), "--help"], capture_output=True,
                          text=True, timeout=120, cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert "--budget-s" in proc.stdout and "python -m benchmarks.gpu_check" in proc.stdout


def test_without_cuda_the_default_device_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import torch

    from benchmarks.gpu_check import main

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    assert main(["--out", str(tmp_path / "x")]) == 0
    assert "no CUDA GPU" in capsys.readouterr().out and not (tmp_path / "x").exists()


def test_unknown_names_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from benchmarks.gpu_check import main

    assert main(["--device", "cpu", "--precisions", "fp8", "--out", str(tmp_path)]) == 2
    assert "--precisions: unknown fp8" in capsys.readouterr().err
    assert main(["--device", "cpu", "--tasks", "nope", "--out", str(tmp_path)]) == 2
    assert not (tmp_path / "results.json").exists()
