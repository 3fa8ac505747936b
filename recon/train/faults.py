"""Faults a training run stops on, each with its own exit code and one clear line.

This module imports nothing heavy (no torch) so the CLI can map these exceptions to exit
codes without slowing ``recon --help``.

Exit codes (see docs/reliability.md):

- 3: the run stopped on a fault it cannot fix itself (diverged past ``trainer.nan_policy``,
  the output disk full or read-only). The last good checkpoint is intact and the message
  says what to do next.
- 130 / 143: interrupted by SIGINT / SIGTERM; a checkpoint of the current step was saved
  and the message gives the exact command that resumes the run.
"""

from __future__ import annotations

import errno
import shlex
import signal
from pathlib import Path

from recon.errors import ReconError

#: ``errno`` values that mean "the output storage cannot take more data".
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS})
EXIT_FAULT = 3


class TrainingDiverged(ReconError):
    """Non-finite losses or gradients that the NaN policy could not recover from (exit 3)."""

    exit_code = EXIT_FAULT


class OutputWriteError(ReconError):
    """The run directory cannot be written (disk full, file-size limit, read-only; exit 3)."""

    exit_code = EXIT_FAULT


class RunInterrupted(ReconError):
    """SIGINT/SIGTERM during training: the current step was checkpointed (exit 128 + signal)."""

    prefix = ""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


class SignalExit(KeyboardInterrupt):
    """SIGTERM outside the training loop: unwinds like Ctrl-C, exits 143."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def resume_command(task: str, run_dir: Path) -> str:
    """The exact shell command that continues the run in ``run_dir``."""
    return f"recon run --task {shlex.quote(task)} --out {shlex.quote(str(Path(run_dir).resolve()))} --resume"


def storage_error(exc: BaseException | None) -> OSError | None:
    """The ``OSError`` meaning a full disk, a file-size limit or a read-only mount behind ``exc``.

    Follows the exception chain: ``torch.save`` reports a failed write as a RuntimeError
    raised while handling the OSError.
    """
    seen = 0
    while exc is not None and seen < 16:
        if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def is_storage_error(exc: BaseException) -> bool:
    """True when ``exc`` is, or was caused by, a storage ``OSError`` (see :func:`storage_error`)."""
    return storage_error(exc) is not None


def storage_message(exc: BaseException, path: str | Path | None = None) -> str:
    """``cannot write FILE: REASON (errno N)`` for an exception caused by a storage ``OSError``."""
    error = storage_error(exc) or exc
    name = getattr(error, "filename", None) or path
    where = f" {name}" if name else ""
    return f"cannot write{where}: {getattr(error, 'strerror', None) or type(error).__name__} " \
           f"(errno {getattr(error, 'errno', '?')})"
