"""``trainer.compile`` on this machine: recon's training step with ``torch.compile`` against eager.

Two trainers of the same task and preset (``trainer.compile=false`` and ``true``) are built in
one process and their ``train_step`` timed interleaved (A, B, B, A ...) after a warm-up that
includes the compilation; the figure is the ratio of the median step times (eager / compiled,
> 1 means compiling helps), in wall-clock and in process CPU time. The first compiled step's
time (tracing + code generation) is reported apart. CPU inductor needs a C++ compiler; without
one ``recon.train.compile`` falls back to eager and the record says so (``fell_back``).

    OMP_NUM_THREADS=1 python -m benchmarks.compile_speed [--task mri_superres] [--preset default] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch


def measure(task_name: str = "mri_superres", preset: str = "default", steps: int = 20, warmup: int = 3,
            device: str = "cpu") -> dict[str, Any]:
    """Median ``train_step`` times (ms) eager and compiled, their ratio and the compile time."""
    from benchmarks.speed import _sync, build_trainer

    with tempfile.TemporaryDirectory() as tmp:
        eager = build_trainer(task_name, preset, ["trainer.compile=false"], device, Path(tmp) / "eager")
        compiled = build_trainer(task_name, preset, ["trainer.compile=true"], device, Path(tmp) / "compiled")
        batch = eager.to_device(next(eager.batch_iterator()))
        times: dict[str, list[float]] = {"eager": [], "compiled": []}
        cpu: dict[str, list[float]] = {"eager": [], "compiled": []}  # process CPU time: steadier on a busy machine
        first: dict[str, float] = {}

        def timed(name: str, trainer: Any, i: int) -> None:
            trainer.step = i
            _sync(trainer.device)
            start, start_cpu = time.perf_counter(), time.process_time()
            trainer.train_step([batch])
            _sync(trainer.device)
            seconds = time.perf_counter() - start
            if i == 0:
                first[name] = seconds
            if i >= warmup:
                times[name].append(seconds)
                cpu[name].append(time.process_time() - start_cpu)

        for i in range(warmup + steps):
            order = [("eager", eager), ("compiled", compiled)]
            for name, trainer in order if i % 2 == 0 else order[::-1]:
                timed(name, trainer, i)
        fell_back = [m.name for m in compiled.ctx.__dict__.values()
                     if isinstance(m, torch.nn.Module) and getattr(m, "failed", False)]
    eager_ms = statistics.median(times["eager"]) * 1e3
    compiled_ms = statistics.median(times["compiled"]) * 1e3
    eager_cpu, compiled_cpu = statistics.median(cpu["eager"]), statistics.median(cpu["compiled"])
    return {"task": task_name, "preset": preset, "device": device, "steps": steps, "warmup": warmup,
            "eager_ms": round(eager_ms, 2), "compiled_ms": round(compiled_ms, 2),
            "speedup": round(eager_ms / compiled_ms, 3), "speedup_cpu_time": round(eager_cpu / compiled_cpu, 3),
            "first_compiled_step_s": round(first["compiled"], 1),
            "first_eager_step_s": round(first["eager"], 2), "fell_back": fell_back,
            "cxx": shutil.which("g++") or shutil.which("c++"), "torch": torch.__version__,
            "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="mri_superres")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(json.dumps(measure(args.task, args.preset, args.steps, args.warmup, args.device), indent=2))


if __name__ == "__main__":
    main()
