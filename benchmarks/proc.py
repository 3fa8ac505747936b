"""Run a command in a child process and measure its wall time and peak memory.

Peak memory is the command's own maximum resident set size from ``os.wait4`` (the rusage of
exactly that process, unlike ``getrusage(RUSAGE_CHILDREN)``, which keeps the maximum over
every child ever waited for). On Linux a process's ``ru_maxrss`` also includes the resident
size of the process it was forked from (``execve`` keeps the old address space's high-water
mark), so a child forked from this big Python process would report at least our own size.
The command is therefore started by a tiny launcher (a bare ``python -c``, ~10 MiB) that
forks, execs it, waits for it with ``os.wait4`` and writes its ``ru_maxrss`` to a file.
DataLoader workers are grandchildren and not included; the presets use ``num_workers=0``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


_LAUNCHER = """
import json, os, sys
out, args = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execvp(args[0], args)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as handle:
    json.dump({"ru_maxrss": usage.ru_maxrss}, handle)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


@dataclass
class ChildResult:
    """Exit code, wall seconds and peak RSS (MiB) of one child; its output is in ``log``."""

    returncode: int
    wall_s: float
    peak_rss_mb: float
    log: Path
    timed_out: bool = False

    def tail(self, lines: int = 5) -> str:
        """The last ``lines`` lines of the child's combined output."""
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


def _maxrss_mb(path: Path) -> float:
    """The launcher's report of the command's ``ru_maxrss`` in MiB (0 when it has none)."""
    try:
        value = json.loads(path.read_text())["ru_maxrss"]
    except (OSError, ValueError, KeyError):
        return 0.0
    scale = 1 / 2**20 if sys.platform == "darwin" else 1 / 1024  # macOS: bytes, Linux: KiB
    return round(value * scale, 1)


def run_child(args: list[str], log: Path, timeout_s: float | None = None,
              env: dict[str, str] | None = None, cwd: Path | None = None) -> ChildResult:
    """Run ``args``, stdout and stderr to ``log``; kill it (and its group) after ``timeout_s``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **(env or {})}
    start = time.perf_counter()
    usage_file = log.with_name(log.name + ".rusage.json")
    usage_file.unlink(missing_ok=True)
    with open(log, "w") as handle:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(usage_file), *args], stdout=handle,
                                stderr=subprocess.STDOUT, env=full_env, cwd=cwd, start_new_session=True)
        timed_out = False
        deadline = None if timeout_s is None else start + timeout_s
        status = 0
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if deadline is not None and time.perf_counter() > deadline and not timed_out:
                timed_out = True
                os.killpg(proc.pid, signal.SIGTERM)
                deadline = time.perf_counter() + 10  # then SIGKILL if it ignores SIGTERM
                continue
            if timed_out and deadline is not None and time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                deadline = None
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    wall = time.perf_counter() - start
    return ChildResult(proc.returncode, round(wall, 2), _maxrss_mb(usage_file), log, timed_out)


def recon_command(*args: str) -> list[str]:
    """``python -m recon ARGS`` with this interpreter (the benchmark's own environment)."""
    return [sys.executable, "-m", "recon", *map(str, args)]
