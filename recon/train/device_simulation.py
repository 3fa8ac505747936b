"""``data.simulate_on=device``: the training degradation, batched on the training device.

By default (``cpu``) each training sample is measured in the DataLoader (its workers with
``trainer.num_workers > 0``, persistent, with pinned memory on CUDA). With ``device``, a task
whose training set is a :class:`recon.data.patches.RandomPatchDataset` over a
:class:`recon.data.device_measure.SplitSample` (core's :func:`recon.data.measurements.measurement_pair`,
the SR and k-space tasks' sample makers) has the DataLoader draw only the clean patch and the
operator's parameters — the same draws from the same per-sample generator, so the same masks,
noise and phases — and the measurement of the whole batch runs on the device right after the
batch is moved there. Training batches hold the same keys either way; evaluation splits are
measured on the CPU as always. Any other training set is refused with one line (exit code 2).
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterable, Iterator

import torch
from torch.utils.data import Dataset

from recon.data.device_measure import BatchMeasure, SplitSample
from recon.data.patches import RandomPatchDataset
from recon.errors import ConfigError

__all__ = ["DeviceSimulation", "device_simulation"]

Batch = dict[str, Any]


class DeviceSimulation:
    """The training set's measurement, moved from the DataLoader to the training device.

    Args:
        dataset: the training set drawing clean targets ``(C, *spatial)`` and parameters only.
        measure: ``batch -> batch`` on the device: ``target (N, C, *spatial)`` and the collated
            parameters to the batch the CPU path gives (``input`` ``(N, C', *spatial')`` ...).
        to_device: the trainer's move to the device (and to channels_last where configured).
    """

    def __init__(self, dataset: Dataset, measure: BatchMeasure, to_device: Callable[[Batch], Batch]) -> None:
        self.dataset, self.measure, self.to_device = dataset, measure, to_device

    @torch.no_grad()
    def __call__(self, batch: Batch) -> Batch:
        """A collated CPU batch of ``dataset``, moved to the device and measured there."""
        return self.to_device(self.measure(self.to_device(batch)))  # the second move: the new tensors' layout

    def batches(self, loader: Iterable[Batch]) -> Iterator[Batch]:
        """The measured device batches of ``loader`` (a DataLoader over :attr:`dataset`)."""
        return (self(batch) for batch in loader)


def device_simulation(task: Any, cfg: Any, train_set: Dataset,
                      to_device: Callable[[Batch], Batch]) -> DeviceSimulation | None:
    """The device measurement of ``train_set`` when ``cfg.data.simulate_on`` is ``device``
    (``None`` for ``cpu``: the dataset measures as always).

    Raises:
        ConfigError: ``device`` asked of a task whose training samples are not made by a
            :class:`~recon.data.device_measure.SplitSample` inside a ``RandomPatchDataset``, or
            whose measurement cannot run batched (one line naming the task and why).
    """
    if getattr(cfg.data, "simulate_on", "cpu") != "device":
        return None
    split = train_set.transform if isinstance(train_set, RandomPatchDataset) else None
    if not isinstance(split, SplitSample):
        raise ConfigError(f"data.simulate_on=device: task {task.name} makes its training samples on the CPU with its "
                          f"own {_maker(train_set, split)}, which has no batched device measurement; "
                          "use data.simulate_on=cpu")
    if split.refusal:
        raise ConfigError(f"data.simulate_on=device: task {task.name} cannot measure on the device: {split.refusal}; "
                          "use data.simulate_on=cpu")
    assert isinstance(train_set, RandomPatchDataset)  # split is its transform
    drawing = copy.copy(train_set)
    drawing.transform = split.draw
    return DeviceSimulation(drawing, split.measure, to_device)


def _maker(train_set: Dataset, transform: Any) -> str:
    """What makes the samples of ``train_set``, for the refusal: its sample maker or its dataset class."""
    if transform is None:
        return f"dataset {type(train_set).__name__}"
    name = getattr(transform, "__qualname__", type(transform).__qualname__).split(".<locals>")[0]
    return f"sample maker {getattr(transform, '__module__', '')}.{name}"
