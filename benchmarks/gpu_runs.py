"""The GPU check's smoke runs: one ``recon run`` of a task's smoke preset in one precision, in
this process, with its wall time, median step time and peak device memory; and the time budget
every part of the check runs under.

A run calls :func:`recon.cli.main.main` (what the ``recon`` command calls) with stdout and stderr
written to files in its run directory, so torch and CUDA start once for the whole check. Its
step time is the median over the windows of ``metrics.jsonl`` (``trainer.log_every=1``: one
window per step; ``batch_size / img_per_s``), the first window (start-up) left out; a window's
clock stops at the step's log line, which reads the losses from the device, so queued GPU work
is included. Peak device memory is ``torch.cuda.max_memory_allocated`` since the run started
(training, checkpoints and the final evaluation), ``None`` on a CPU.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

#: trainer.precision values, in the order the check runs them by default
PRECISIONS = ("fp32", "bf16", "fp16")
#: the reason of a run the budget left out (or stopped)
BUDGET = "budget"


class Budget:
    """A wall-clock budget for the whole check, started at construction.

    :meth:`watch` arms a timer for what is left: when it fires, the process receives SIGINT,
    which recon's trainer turns into "finish the step, checkpoint, stop" and anything else into
    ``KeyboardInterrupt``; :attr:`fired` then tells the caller the budget stopped it. A SIGINT
    from elsewhere (Ctrl-C) sets :attr:`interrupted`: the check then skips what is left and
    still writes its results.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._clock = float(seconds), clock
        self.start = clock()
        self.fired = False
        self.interrupted = False

    def spent(self) -> float:
        return self._clock() - self.start

    def left(self) -> float:
        return self.seconds - self.spent()

    def exhausted(self) -> bool:
        return self.fired or self.interrupted or self.left() <= 0

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        """SIGINT to this process when the budget runs out inside the block (main thread, Unix)."""
        left = self.left()
        if left <= 0 or not hasattr(signal, "setitimer"):
            yield
            return

        def fire(signum: int, frame: Any) -> None:
            self.fired = True
            os.kill(os.getpid(), signal.SIGINT)

        previous = signal.signal(signal.SIGALRM, fire)
        signal.setitimer(signal.ITIMER_REAL, left)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def skipped(reason: str, **fields: Any) -> dict[str, Any]:
    """A record of something that did not run."""
    return {**fields, "status": "skipped", "reason": reason}


def budget_reason(budget: Budget) -> str:
    """Why ``budget`` left a run out: spent, or interrupted."""
    if budget.interrupted and not budget.fired:
        return "interrupted (SIGINT) before it started"
    return f"{BUDGET}: the {budget.seconds:g} s budget was spent"


# -- device memory ----------------------------------------------------------------------------
def reset_peak(device: str) -> None:
    """Free cached blocks and restart the peak-memory counters of ``device`` (no-op on a CPU)."""
    gc.collect()
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_memory(device: str) -> dict[str, float | None]:
    """``peak_mem_mb`` (``max_memory_allocated``) and ``peak_reserved_mb`` (the caching
    allocator's high-water mark) in MiB since :func:`reset_peak`; ``None`` on a CPU."""
    if not (device.startswith("cuda") and torch.cuda.is_available()):
        return {"peak_mem_mb": None, "peak_reserved_mb": None}
    return {"peak_mem_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
            "peak_reserved_mb": round(torch.cuda.max_memory_reserved() / 2**20, 1)}


def sync(device: str) -> None:
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.synchronize()


# -- precision support --------------------------------------------------------------------------
def precision_skip(device: str, precision: str) -> str | None:
    """Why ``precision`` cannot run on ``device`` (``None`` when it can)."""
    if device.startswith("cuda") and precision == "bf16" and not torch.cuda.is_bf16_supported():
        major, minor = torch.cuda.get_device_capability()
        return f"{torch.cuda.get_device_name()} (compute capability {major}.{minor}) has no bf16"
    if device == "cpu" and precision == "fp16":
        try:  # autocast fp16 on a CPU needs kernels this torch build may lack
            x = torch.randn(1, 2, 8, 8, requires_grad=True)
            with torch.autocast("cpu", dtype=torch.float16):
                y = torch.nn.functional.conv2d(x, torch.randn(2, 2, 3, 3))
            y.float().sum().backward()
        except (RuntimeError, TypeError) as exc:
            return f"fp16 autocast does not run on this CPU build of torch ({type(exc).__name__}: {exc})"[:200]
    return None


# -- one smoke run ------------------------------------------------------------------------------
def last_line(path: Path) -> str:
    """The last non-empty line of a log file ('' when there is none)."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def step_times(metrics: Path, batch_size: int) -> list[float]:
    """Per-window step times (ms) of ``metrics.jsonl``: ``batch_size / img_per_s``, first window left out."""
    try:
        rows = [json.loads(line) for line in metrics.read_text().splitlines() if '"img_per_s"' in line]
    except (OSError, json.JSONDecodeError):
        return []
    rates = [float(r["img_per_s"]) for r in rows if isinstance(r.get("img_per_s"), (int, float))]
    rates = rates[1:] if len(rates) > 1 else rates
    return [1e3 * batch_size / rate for rate in rates if rate > 0]


def _batch_size(run_dir: Path) -> int | None:
    """``trainer.batch_size`` of the run's config.yaml."""
    import yaml

    try:
        return int(yaml.safe_load((run_dir / "config.yaml").read_text())["trainer"]["batch_size"])
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        return None


def recon_in_process(argv: list[str], log_dir: Path) -> int:
    """``recon ARGV`` in this process, stdout/stderr into ``log_dir``; returns its exit code."""
    from recon.cli.main import main

    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "stdout.log", "w") as out, open(log_dir / "stderr.log", "w") as err, \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            return main(argv)
        except KeyboardInterrupt:  # SIGINT outside the trainer's own handling
            print("recon: interrupted", file=sys.stderr)
            return 130
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1


def smoke_run(task: str, precision: str, device: str, scratch: Path, budget: Budget) -> dict[str, Any]:
    """Train and evaluate ``task``'s smoke preset in ``precision`` on ``device``: one run record."""
    record: dict[str, Any] = {"task": task, "precision": precision, "preset": "smoke"}
    if budget.exhausted():
        return skipped(budget_reason(budget), **record)
    why = precision_skip(device, precision)
    if why:
        return skipped(why, **record)
    run_dir = scratch / f"{task}-{precision}"
    shutil.rmtree(run_dir, ignore_errors=True)  # a run of an earlier check in the same --out
    argv = ["run", "--task", task, "--preset", "smoke", "--device", device, "--out", str(run_dir),
            "--set", f"trainer.precision={precision}", "--set", "trainer.log_every=1",
            "--set", "trainer.progress=false"]
    reset_peak(device)
    start = time.perf_counter()
    try:
        with budget.watch():
            code = recon_in_process(argv, run_dir / "logs")
    except KeyboardInterrupt:  # a SIGINT between recon's return and the end of the watch
        code = 130
    sync(device)
    wall = round(time.perf_counter() - start, 2)
    record.update(run_dir=str(run_dir), wall_s=wall, returncode=code)
    batch = _batch_size(run_dir)
    times = step_times(run_dir / "metrics.jsonl", batch) if batch else []
    record.update(batch_size=batch, step_ms=round(statistics.median(times), 2) if times else None,
                  steps_timed=len(times), **peak_memory(device))
    if code == 0:
        record.update(status="ok", reason=None)
    elif budget.fired:
        record.update(status="skipped", reason=f"{BUDGET}: stopped after {wall:g} s when the budget ran out")
    elif code == 130:  # Ctrl-C: skip the rest, write the results
        budget.interrupted = True
        record.update(status="skipped", reason="interrupted (SIGINT)")
    else:
        record.update(status="failed",
                      reason=last_line(run_dir / "logs" / "stderr.log") or f"exit code {code}")
    return record
