"""A lock file that stops two runs from writing into the same run directory."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from recon.errors import UsageError

LOCK_NAME = ".lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """Hold ``run_dir/.lock`` (with our PID) for the duration of a run.

    A lock left by a process that no longer exists is stale and taken over. Only the main
    process of a distributed run takes the lock.
    """

    def __init__(self, run_dir: Path, resume: bool = False) -> None:
        self.path = run_dir / LOCK_NAME
        self.resume = resume
        self.held = False

    def __enter__(self) -> "RunLock":
        if int(os.environ.get("RANK", "0")) != 0:
            return self
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or "0")
                except (OSError, ValueError):
                    pid = 0
                if pid and _pid_alive(pid) and pid != os.getpid():
                    raise UsageError(f"{self.path.parent} is in use by another recon run (pid {pid})") from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
            self.held = True
            return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
