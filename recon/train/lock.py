"""A lock file that stops two runs from writing into the same run directory.

The lock is an ``fcntl.flock`` on ``run_dir/.lock``: the kernel releases it when the holder
dies, even by SIGKILL or a power cut of the process, so a lock left by a dead run is stale
by construction and simply taken over. The file holds ``pid host`` for the error message.
Where ``flock`` is not supported (some network filesystems) the PID in the file decides:
a lock whose process no longer exists on this host is taken over.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
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


def _holder(path: Path) -> tuple[int, str]:
    """``(pid, host)`` written in the lock file, ``(0, "")`` when unreadable."""
    try:
        pid, _, host = path.read_text().strip().partition(" ")
        return int(pid), host
    except (OSError, ValueError):
        return 0, ""


class RunLock:
    """Hold ``run_dir/.lock`` for the duration of a run.

    Only the main process of a distributed run takes the lock. ``resume`` is kept for the
    message: resuming is allowed only once the run that wrote the checkpoint is gone.

    Raises:
        UsageError: another live recon run holds the directory.
    """

    def __init__(self, run_dir: Path, resume: bool = False) -> None:
        self.path = run_dir / LOCK_NAME
        self.resume = resume
        self.held = False
        self._fd: int | None = None

    def _refuse(self) -> UsageError:
        pid, host = _holder(self.path)
        who = f"pid {pid}" + (f" on {host}" if host and host != socket.gethostname() else "") if pid else "unknown pid"
        action = "wait for it to finish or stop it, then --resume" if self.resume else "choose another --out"
        return UsageError(f"{self.path.parent} is in use by another recon run ({who}); {action}")

    def _acquire_flock(self) -> bool:
        """True when locked; False when flock is unsupported here; UsageError when busy."""
        while True:
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise self._refuse() from None
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                    return False
                raise
            try:  # the file we locked may have been unlinked by a holder that just finished
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {socket.gethostname()}".encode())
            self._fd = fd
            return True

    def _acquire_pidfile(self) -> None:
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid, host = _holder(self.path)
                same_host = not host or host == socket.gethostname()
                if pid and pid != os.getpid() and (not same_host or _pid_alive(pid)):
                    raise self._refuse() from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()} {socket.gethostname()}")
            return

    def __enter__(self) -> "RunLock":
        if int(os.environ.get("RANK", "0")) != 0:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self._acquire_flock():
            self._acquire_pidfile()
        self.held = True
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self.held:
            return
        self.path.unlink(missing_ok=True)  # unlink while still locked, then release
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.held = False
