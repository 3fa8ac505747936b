"""Counting device-to-host synchronisations of a training step, on any device.

On a GPU every call that brings a tensor's value to Python (``.item()``, ``float(t)``,
``bool(t)``, ``.tolist()``, ``.cpu()``, ...) waits for the queued kernels. :class:`SyncProbe`
patches those methods of ``torch.Tensor`` and counts the calls, so the figure can be taken on
a CPU-only machine too (where the same calls are cheap but are the ones that would stall a GPU).

Not counted: calls made from inside ``torch.optim`` (Adam's step counter is a host tensor
even on CUDA, so reading it never synchronises) and calls while the probe is
:meth:`SyncProbe.paused` (e.g. while the DataLoader builds a batch on the host).

    with SyncProbe() as probe:
        trainer.train_step([batch])
    probe.count  # reads of the device in that step
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from typing import Any, Callable, Iterator

import torch

METHODS = ("item", "tolist", "cpu", "numpy", "__float__", "__int__", "__bool__", "__index__")
IGNORED_CALLERS = ("torch.optim",)


class SyncProbe:
    """Counts host reads of tensors while entered; ``count`` in total, ``by_method`` and
    ``by_caller`` (``module:line``) to find them."""

    def __init__(self) -> None:
        self.count = 0
        self.by_method: Counter[str] = Counter()
        self.by_caller: Counter[str] = Counter()
        self._originals: dict[str, Any] = {}
        self._paused = 0

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        probe = self

        def counted(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            if not probe._paused:
                frame = sys._getframe(1)
                module = frame.f_globals.get("__name__", "")
                if not module.startswith(IGNORED_CALLERS):
                    probe.count += 1
                    probe.by_method[name] += 1
                    probe.by_caller[f"{module}:{frame.f_lineno}"] += 1
            probe._paused += 1  # a method calling another (tolist -> item) counts once
            try:
                return original(tensor, *args, **kwargs)
            finally:
                probe._paused -= 1

        return counted

    def __enter__(self) -> "SyncProbe":
        for name in METHODS:
            original = getattr(torch.Tensor, name)
            self._originals[name] = torch.Tensor.__dict__.get(name, _ABSENT)
            setattr(torch.Tensor, name, self._wrap(name, original))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, original in self._originals.items():
            if original is _ABSENT:
                delattr(torch.Tensor, name)
            else:
                setattr(torch.Tensor, name, original)
        self._originals.clear()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Calls made meanwhile are not counted."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1


_ABSENT = object()


def step_syncs(trainer: Any, batch: dict[str, Any], steps: int = 3, first_step: int = 1) -> list[int]:
    """Host reads of each of ``steps`` calls of ``trainer.train_step([batch])`` (steps
    ``first_step``...: the trainer's per-step work on a step that logs nothing)."""
    counts = []
    for i in range(steps):
        trainer.step = first_step + i
        with SyncProbe() as probe:
            trainer.train_step([batch])
        counts.append(probe.count)
    return counts
