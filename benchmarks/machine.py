"""What machine a benchmark ran on: CPU model, cores, memory, torch version, device, load.

Every results file and every figure records this, because CPU timings mean nothing without
it (and this machine is often shared: the 1-minute load average is part of the record).
"""

from __future__ import annotations

import os
import platform
from typing import Any


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def total_memory_gb() -> float | None:
    """Physical memory in GiB (Linux ``/proc/meminfo``), or ``None``."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def load_average() -> float | None:
    """The 1-minute load average, or ``None`` where the OS has none."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """A JSON-able description of the machine and software the numbers come from."""
    import torch

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "memory_gb": total_memory_gb(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") and torch.cuda.is_available() else None,
        "load_avg_1min": load_average(),
    }
    try:
        from recon import __version__

        info["recon"] = __version__
    except ImportError:  # pragma: no cover - benchmarks always run inside the repo
        info["recon"] = None
    return info


def machine_line(info: dict[str, Any]) -> str:
    """One line for figure footers: ``AMD EPYC, 2 cores, torch 2.x, cpu, load 1.2``."""
    device = info.get("gpu") or info.get("device", "cpu")
    load = info.get("load_avg_1min")
    parts = [str(info.get("cpu", "?")), f"{info.get('cores', '?')} cores", f"torch {info.get('torch', '?')}",
             f"device {device}"]
    if load is not None:
        parts.append(f"load {load:g}")
    return ", ".join(parts)
