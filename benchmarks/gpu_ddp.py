"""The GPU check's distributed run and machine record.

:func:`ddp_smoke`: ``torch.distributed.run`` with 2 processes of ``recon run`` (mri_superres
smoke preset) in a child process group: NCCL on CUDA when at least 2 GPUs are visible (else a
skipped record naming the GPU count), gloo for the CPU dry run. :func:`gpu_machine`: what the
numbers were measured on (GPU model and count, CUDA, cuDNN, NCCL, torch, driver).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from benchmarks.gpu_runs import Budget, budget_reason, last_line, skipped, step_times
from benchmarks.proc import run_child

#: the DDP run's task, processes and global batch (divisible by the processes)
DDP_TASK, DDP_PROCS, DDP_BATCH = "mri_superres", 2, 8


def ddp_command(device: str, precision: str, run_dir: Path) -> list[str]:
    """``python -m torch.distributed.run ... -m recon run ...`` of the DDP smoke run."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(DDP_PROCS),
            "-m", "recon", "run", "--task", DDP_TASK, "--preset", "smoke", "--device", device,
            "--out", str(run_dir), "--set", f"trainer.precision={precision}",
            "--set", f"trainer.batch_size={DDP_BATCH}", "--set", "trainer.d_warmup_steps=0",
            "--set", "trainer.log_every=1", "--set", "trainer.progress=false"]


def ddp_smoke(device: str, precision: str, scratch: Path, budget: Budget, limit_s: float = 300) -> dict[str, Any]:
    """The DDP record: status, wall time, backend, median step time (global batch)."""
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    backend = "nccl" if device.startswith("cuda") else "gloo"
    record: dict[str, Any] = {"task": DDP_TASK, "nproc": DDP_PROCS, "gpus": gpus, "backend": backend,
                              "precision": precision}
    if backend == "nccl" and gpus < DDP_PROCS:
        return skipped(f"{gpus} GPU{'s' if gpus != 1 else ''} visible; DDP needs {DDP_PROCS}", **record)
    if budget.exhausted():
        return skipped(budget_reason(budget), **record)
    run_dir = scratch / "ddp"
    shutil.rmtree(run_dir, ignore_errors=True)
    command = ddp_command(device, precision, run_dir)
    timeout = max(1.0, min(limit_s, budget.left()))
    child = run_child(command, scratch / "ddp.log", timeout_s=timeout)
    times = step_times(run_dir / "metrics.jsonl", DDP_BATCH)
    record.update(command=" ".join(["python", *command[1:]]), returncode=child.returncode, wall_s=child.wall_s,
                  step_ms=round(statistics.median(times), 2) if times else None, run_dir=str(run_dir))
    if child.returncode == 0:
        return {**record, "status": "ok", "reason": None}
    if child.timed_out:
        if timeout < limit_s:
            return {**record, "status": "skipped", "reason": f"{budget_reason(budget)} (stopped after {timeout:.0f} s)"}
        return {**record, "status": "failed", "reason": f"timed out after {limit_s:g} s"}
    return {**record, "status": "failed", "reason": last_line(scratch / "ddp.log") or f"exit code {child.returncode}"}


def _driver() -> str | None:
    """The NVIDIA driver version from ``nvidia-smi`` (``None`` without one)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0].strip() if out.strip() else None


def gpu_machine(device: str) -> dict[str, Any]:
    """The GPU(s), CUDA, cuDNN, NCCL, torch and driver versions (``gpu`` ``None`` without CUDA)."""
    cuda = torch.cuda.is_available()
    count = torch.cuda.device_count() if cuda else 0
    info: dict[str, Any] = {
        "device": device, "torch": torch.__version__, "cuda": torch.version.cuda, "count": count,
        "gpu": torch.cuda.get_device_name(0) if count else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(count)],
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "driver": _driver() if cuda else None,
    }
    if count:
        props = torch.cuda.get_device_properties(0)
        info["capability"] = f"{props.major}.{props.minor}"
        info["memory_gb"] = round(props.total_memory / 2**30, 1)
        info["bf16"] = bool(torch.cuda.is_bf16_supported())
        try:
            info["nccl"] = ".".join(map(str, torch.cuda.nccl.version()))
        except (AttributeError, RuntimeError, TypeError):
            info["nccl"] = None
    return info
