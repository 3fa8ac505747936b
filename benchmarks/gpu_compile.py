"""The GPU check's ``trainer.compile`` comparison: one task's preset trained eagerly, then with
``torch.compile`` (inductor, or ``RECON_COMPILE_BACKEND``), in this process.

Each variant is its own trainer, built after the previous one is freed, so its peak device
memory is its own. ``warmup`` steps (the first compiled ones trace and generate code) are left
out; the step time is the median of the next ``steps`` ``train_step`` calls on one batch, each
timed between two device synchronisations. ``speedup`` is eager / compiled (> 1: compiling
helps). ``fell_back`` names the networks whose compilation failed and ran eagerly instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any, Iterator

import torch

from benchmarks.gpu_runs import BUDGET, Budget, budget_reason, peak_memory, reset_peak, skipped, sync


@contextlib.contextmanager
def _logged(path: Path) -> Iterator[None]:
    """stdout and stderr of the block (the trainer's data summary, compile fallbacks) into ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        yield


def _variant(task: str, preset: str, precision: str, compiled: bool, device: str, run_dir: Path,
             steps: int, warmup: int) -> tuple[dict[str, Any], list[str]]:
    """(``{step_ms, first_step_s, peak_mem_mb, ...}``, the networks that fell back) of one trainer."""
    from benchmarks.speed import build_trainer

    shutil.rmtree(run_dir, ignore_errors=True)
    reset_peak(device)
    trainer = build_trainer(task, preset, [f"trainer.compile={str(compiled).lower()}",
                                           f"trainer.precision={precision}"], device, run_dir)
    try:
        batch = trainer.to_device(next(trainer.batch_iterator()))
        times = []
        for i in range(warmup + steps):
            trainer.step = i
            sync(device)
            start = time.perf_counter()
            trainer.train_step([batch])
            sync(device)
            times.append(time.perf_counter() - start)
        fell_back = sorted({str(getattr(m, "name", type(m).__name__)) for m in vars(trainer.ctx).values()
                            if isinstance(m, torch.nn.Module) and getattr(m, "failed", False)})
        result = {"step_ms": round(statistics.median(times[warmup:]) * 1e3, 2),
                  "first_step_s": round(times[0], 2), "batch_size": trainer.cfg.trainer.batch_size,
                  **peak_memory(device)}
    finally:
        del trainer
        if compiled:
            torch._dynamo.reset()
        reset_peak(device)
    return result, fell_back


def measure_compile(task: str, device: str, scratch: Path, budget: Budget, *, preset: str = "default",
                    precision: str = "fp32", steps: int = 20, warmup: int = 5) -> dict[str, Any]:
    """The compile record of ``task``: eager and compiled step times, peak memory, speed-up."""
    record: dict[str, Any] = {"task": task, "preset": preset, "precision": precision, "steps": steps,
                              "warmup": warmup, "backend": os.environ.get("RECON_COMPILE_BACKEND", "inductor")}
    start = time.perf_counter()
    try:
        for name, compiled in (("eager", False), ("compiled", True)):
            if budget.exhausted():
                return skipped(budget_reason(budget), **record)
            run_dir = scratch / f"compile-{task}-{name}"
            with budget.watch(), _logged(scratch / f"compile-{task}-{name}.log"):
                record[name], fell_back = _variant(task, preset, precision, compiled, device, run_dir, steps,
                                                   warmup)
        record["fell_back"] = fell_back
    except KeyboardInterrupt:
        if not budget.fired:  # Ctrl-C: skip the rest, write the results
            budget.interrupted = True
            return skipped("interrupted (SIGINT)", **record)
        return skipped(f"{BUDGET}: stopped after {time.perf_counter() - start:.0f} s when the budget ran out",
                       **record)
    except Exception as exc:  # noqa: BLE001 - one failed measurement is a record, not the end of the check
        first = (str(exc).strip().splitlines() or [""])[0][:250]
        return {**record, "status": "failed", "reason": f"{type(exc).__name__}: {first}",
                "wall_s": round(time.perf_counter() - start, 2)}
    record.update(status="ok", reason=None, wall_s=round(time.perf_counter() - start, 2),
                  speedup=round(record["eager"]["step_ms"] / record["compiled"]["step_ms"], 3))
    return record
