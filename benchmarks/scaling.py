"""Scaling: training step time and peak memory as the batch size and the image size grow.

Each point runs in its own child process (``python -m benchmarks.scaling --point ...``) so
its peak resident memory is its own (``os.wait4``). The child also reports its resident
memory just before the first training step, so ``step_mem_mb`` (peak minus that) is what the
training step itself adds: activations, gradients, optimizer state. On CUDA the child also
reports ``torch.cuda.max_memory_allocated``.

Points: the preset's patch size with growing batch sizes, and the preset's batch size with
growing patch sizes (``data.patch_size``, the HR side of a training crop).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from benchmarks.proc import run_child

FULL = {"batch_sizes": [4, 8, 16, 32], "sizes": [32, 64, 96, 128], "steps": 5, "warmup": 2}
SMOKE = {"batch_sizes": [2, 4], "sizes": [32], "steps": 2, "warmup": 1}


def _rss_mb() -> float:
    """Current resident set size (Linux ``/proc/self/statm``), else the peak so far."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        import os

        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError):
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure_point(task: str, preset: str, batch_size: int, size: int, steps: int, warmup: int,
                  device: str) -> dict[str, Any]:
    """Median step time of recon's trainer at one (batch size, patch size); in this process."""
    import torch

    from benchmarks.speed import _sync, build_trainer

    overrides = [f"trainer.batch_size={batch_size}", f"data.patch_size={size}"]
    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(task, preset, overrides, device, Path(tmp))
        batch = trainer.to_device(next(trainer.batch_iterator()))
        before = _rss_mb()
        if trainer.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(trainer.device)
        times = []
        for i in range(warmup + steps):
            trainer.step = i
            _sync(trainer.device)
            start = time.perf_counter()
            trainer.train_step([batch])
            _sync(trainer.device)
            if i >= warmup:
                times.append(time.perf_counter() - start)
        out = {"batch_size": batch_size, "patch_size": size, "step_ms": round(statistics.median(times) * 1e3, 3),
               "rss_before_steps_mb": before}
        out["img_per_s"] = round(batch_size / (out["step_ms"] / 1e3), 2)
        if trainer.device.type == "cuda":
            out["cuda_peak_mb"] = round(torch.cuda.max_memory_allocated(trainer.device) / 2**20, 1)
    return out


def points(grid: dict[str, Any], base_batch: int, base_size: int) -> list[tuple[int, int]]:
    """(batch, size) pairs: batches at the base size, sizes at the base batch, no repeats."""
    pairs = [(b, base_size) for b in grid["batch_sizes"]] + [(base_batch, s) for s in grid["sizes"]]
    return list(dict.fromkeys(pairs))


def run_scaling(task: str, out: Path, *, smoke: bool, device: str, steps: int | None = None,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every point in a child process; returns the ``scaling`` section of results.json.

    ``steps`` (the speed suite's ``--steps``) scales the timed steps per point down or up."""
    from recon.config import build_config
    from recon.plugins import get_task

    grid = dict(SMOKE if smoke else FULL)
    if steps:
        grid.update(steps=max(2, min(grid["steps"], steps // 4)), warmup=1 if steps < 10 else grid["warmup"])
    preset = "smoke" if smoke else "default"
    record: dict[str, Any] = {"task": task, "preset": preset, "status": "ok", "reason": None, "points": []}
    try:
        cfg = build_config(get_task(task), preset)
        base_batch, base_size = cfg.trainer.batch_size, cfg.data.patch_size
    except Exception as exc:  # noqa: BLE001
        record.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
        return record
    grid = {**grid, "sizes": sorted(set(grid["sizes"]) | {base_size})}
    record.update(base_batch_size=base_batch, base_patch_size=base_size)
    for batch_size, size in points(grid, base_batch, base_size):
        log(f"[scaling] {task}: batch {batch_size}, patch {size}")
        dest = out / "scratch" / "scaling" / f"b{batch_size}_s{size}.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "benchmarks.scaling", "--point", "--task", task, "--preset", preset,
                "--batch-size", str(batch_size), "--size", str(size), "--steps", str(grid["steps"]),
                "--warmup", str(grid["warmup"]), "--device", device, "--json", str(dest)]
        child = run_child(args, dest.with_suffix(".log"), timeout_s=600)
        if child.returncode != 0 or not dest.exists():
            record["points"].append({"batch_size": batch_size, "patch_size": size, "status": "failed",
                                     "reason": child.tail(1) or f"exit {child.returncode}"})
            continue
        point = json.loads(dest.read_text())
        point.update(status="ok", peak_rss_mb=child.peak_rss_mb,
                     step_mem_mb=round(max(0.0, child.peak_rss_mb - point["rss_before_steps_mb"]), 1))
        record["points"].append(point)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One scaling point (used by the benchmark suite).")
    parser.add_argument("--point", action="store_true", required=True)
    parser.add_argument("--task", default="mri_superres")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", required=True)
    args = parser.parse_args(argv)
    result = measure_point(args.task, args.preset, args.batch_size, args.size, args.steps, args.warmup, args.device)
    Path(args.json).write_text(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
