"""Train/val/test splits that never leak: by subject, or by slab for a single volume."""

from __future__ import annotations

import numpy as np

from recon.errors import DataError

SPLITS = ("train", "val", "test")


def slab_split(n: int, val_fraction: float, test_fraction: float, gap: int) -> dict[str, range]:
    """Split ``n`` slices of one volume into contiguous slabs with ``gap`` slices between.

    Order along the axis: train | gap | val | gap | test. Returns index ranges.
    """
    usable = n - 2 * gap
    n_val = max(1, int(round(usable * val_fraction)))
    n_test = max(1, int(round(usable * test_fraction)))
    n_train = usable - n_val - n_test
    if n_train < 1:
        raise DataError(f"a volume with {n} slices is too small to split with a gap of {gap}")
    train = range(0, n_train)
    val = range(n_train + gap, n_train + gap + n_val)
    test = range(val.stop + gap, val.stop + gap + n_test)
    return {"train": train, "val": val, "test": test}


def subject_split(n: int, val_fraction: float, test_fraction: float, seed: int) -> dict[str, list[int]]:
    """Split ``n`` subjects (files) at random with a fixed seed; each split gets at least one."""
    if n < 3:
        raise DataError(f"need at least 3 subjects to split by subject, got {n}")
    order = np.random.default_rng(seed).permutation(n).tolist()
    n_val = max(1, int(round(n * val_fraction)))
    n_test = max(1, int(round(n * test_fraction)))
    if n - n_val - n_test < 1:
        n_val, n_test = 1, 1
    return {
        "test": sorted(order[:n_test]),
        "val": sorted(order[n_test:n_test + n_val]),
        "train": sorted(order[n_test + n_val:]),
    }
