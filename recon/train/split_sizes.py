"""The one line a run prints about its data: ``data: train 70 slices from 1 volume, val 16, test 22``."""

from __future__ import annotations

from typing import Any

import torch

from recon.errors import UsageError

__all__ = ["describe_splits"]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _train_size(train_set: Any, source: str) -> str:
    """What the training set is drawn from, as far as it knows: its source images (slices of how
    many volumes, from the split record) or, for measured files (fastMRI), slices and files."""
    volumes = getattr(train_set, "volumes", None)
    if isinstance(volumes, (list, tuple)) and volumes and all(hasattr(v, "num_slices") for v in volumes):
        return f"{_count(sum(int(v.num_slices) for v in volumes), 'slice')} from {_count(len(volumes), 'file')}"
    images = getattr(train_set, "images", None)
    if isinstance(images, torch.Tensor):
        n, dims = int(images.shape[0]), images.dim() - 2
    elif isinstance(images, (list, tuple)) and images and isinstance(images[0], torch.Tensor):
        n, dims = len(images), images[0].dim() - 1
    else:
        return "size unknown"
    if dims == 3:
        return _count(n, "volume")
    from recon.data.split_record import recorded_splits

    files = {item for record in recorded_splits(source)
             for item in record.get("splits", {}).get("train", {}).get("items", [])}
    if files and len(files) < n:
        return f"{_count(n, 'slice')} from {_count(len(files), 'volume')}"
    return _count(n, "image")


def describe_splits(task: Any, cfg: Any, train_set: Any) -> str:
    """``data: train 70 slices from 1 volume, val 16, test 22``: the training images and the number
    of val/test items (a count a dataset cannot give is said to be unknown)."""
    sizes = [f"train {_train_size(train_set, cfg.data.source)}"]
    for split in ("val", "test"):
        try:
            sizes.append(f"{split} {len(task.build_dataset(cfg, split))}")
        except (UsageError, TypeError):  # a split that cannot be built (yet) or has no len()
            sizes.append(f"{split} unknown")
    return "data: " + ", ".join(sizes)
