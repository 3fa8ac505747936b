"""Every ``data.*`` key of every built-in task takes effect: its data path reads it, or it is refused.

A key a task's datasets never read would be silently dropped (``--set data.cache_dir=...`` used to
change nothing for mri_motion and inpainting, ``data.augment_*`` nothing for mri_kspace). The
check builds each task's train, val and test datasets from its smoke config through a probe
that records which ``data`` fields are read.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from recon.config import build_config
from recon.errors import ConfigError
from recon.plugins import get_task
from recon.train.device_simulation import device_simulation

TASKS = ["srgan", "mri_superres", "mri_kspace", "mri_motion", "mri_translation", "inpainting", "stylegan2"]
#: keys a task refuses when set (it cannot use them), instead of reading them on its data path
#: (stylegan2's class_names and labels_*: read with data.labels set, refused in the unconditional smoke config)
REFUSED = {"stylegan2": {"patch_size": 16, "augment_affine": 0.5, "augment_elastic": 0.5, "augment_intensity": 0.5,
                         "class_names": "[a,b]", "labels_file": "labels.csv", "labels_column": "dx",
                         "labels_path_column": "path"}}


class _ReadProbe:
    """Wraps a data section and records the names of the fields read."""

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._inner, name)


def unread_data_keys(name: str) -> set[str]:
    """The ``data.*`` keys of task ``name``'s smoke preset that its data path (every split's
    dataset and first item, and the trainer's part: ``data.simulate_on``) never reads."""
    task = get_task(name)
    cfg = build_config(task, "smoke")
    probe = _ReadProbe(cfg.data)
    cfg.sections["data"] = probe
    for split in ("train", "val", "test"):
        dataset = task.build_dataset(cfg, split)
        dataset[0]
        if split == "train":  # the trainer's part of the data path (data.simulate_on)
            device_simulation(task, cfg, dataset, lambda batch: batch)
    return {f.name for f in dataclasses.fields(probe._inner)} - probe.read


@pytest.mark.parametrize("name", TASKS)
def test_every_data_key_is_read_or_refused(name: str) -> None:
    unread = unread_data_keys(name) - set(REFUSED.get(name, {}))
    assert not unread, f"{name}: data.{sorted(unread)} never read by its datasets"


@pytest.mark.parametrize("name, key, value", [(n, k, v) for n, keys in REFUSED.items() for k, v in keys.items()])
def test_keys_a_task_cannot_use_are_refused(name: str, key: str, value: Any) -> None:
    task = get_task(name)
    with pytest.raises(ConfigError, match=f"data.{key}"):
        task.validate(build_config(task, "smoke", overrides=[f"data.{key}={value}"]))
