"""SIGINT/SIGTERM handling: finish the current step, checkpoint it, exit 130 / 143.

Two layers:

- :func:`exit_on_sigterm` (the whole CLI command): SIGTERM unwinds like Ctrl-C
  (:class:`recon.train.faults.SignalExit`), so ``finally`` blocks run, the run lock is
  released and the process exits 143 instead of dying mid-write.
- :class:`GracefulStop` (the training loop): the first SIGINT/SIGTERM only records the
  signal; the trainer checks :meth:`GracefulStop.should_stop` between steps, saves a
  checkpoint of the step it just finished and raises
  :class:`recon.train.faults.RunInterrupted`. A second signal interrupts at once
  (KeyboardInterrupt); checkpoints are written atomically, so even that loses nothing
  already saved.

Handlers can only be installed from the main thread; elsewhere both are no-ops.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from types import FrameType
from typing import Any, Iterator

from recon.train.faults import SignalExit

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """Within the block SIGTERM raises :class:`SignalExit` (restored afterwards)."""
    if not _main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SignalExit(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class GracefulStop:
    """Record SIGINT/SIGTERM during training instead of dying mid-step.

    Attributes:
        signum: the first signal received, or ``None``.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:  # asked twice: stop now
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self) -> "GracefulStop":
        if _main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def should_stop(self, dist: Any = None, device: Any = None) -> bool:
        """True once a stop signal arrived (on any rank of a distributed run).

        Ranks of a torchrun job may see SIGTERM at different steps; they agree through one
        tiny all-reduce (max) per step so every rank stops after the same step.
        """
        flag = self.signum is not None
        if dist is not None and getattr(dist, "enabled", False):
            from recon.train.distributed import any_rank

            flag = any_rank(flag, dist, device)
            if flag and self.signum is None:
                self.signum = signal.SIGTERM  # torchrun forwards SIGTERM; another rank saw it first
        return flag

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""
