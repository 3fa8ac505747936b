"""Volumes for ``mri_superres_3d`` (:mod:`recon_superres.task3d`): data, evaluation, samples, predict.

Training: random ``patch_size``^3 cubes of the training volumes (:mod:`recon.data.volumes3d`),
degraded on the fly in 3D. Evaluation items: each val/test volume (a slab of the single MNI152
brain, or a whole subject), degraded whole (centre-cropped to ``eval_crop``^3 when set); core's
paired evaluation super-resolves each and scores it per volume in the fastMRI convention with
the slices along ``data.axis``, against trilinear upsampling.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import augment_spec, image_spec
from recon.api import MeasurementSlices, RandomPatchDataset
from recon.api import load_split_volumes


def build_dataset_3d(task: Any, cfg: RunConfig, split: str) -> Dataset:
    spec = image_spec(cfg, channels=task.channels, multiple=cfg.data.scale)
    volumes = load_split_volumes(spec, split)
    if split != "train":
        return MeasurementSlices(volumes, task.make_pair(cfg), cfg.data.eval_crop, cfg.data.scale)
    from recon.api import build_augmentation

    return RandomPatchDataset([torch.from_numpy(a) for _, a in volumes], cfg.data.patch_size, cfg.seed,
                              task.make_pair(cfg), augment=cfg.data.augment,
                              augment_fn=build_augmentation(augment_spec(cfg)))


def visualize_3d(batch: dict[str, Tensor], fake: Tensor, axis: int) -> list[Tensor]:
    """The central slice along ``axis`` of input (nearest-upsampled) | output | target."""
    import torch.nn.functional as F

    target = batch["target"]
    inputs = F.interpolate(batch["input"], size=target.shape[-3:], mode="nearest")

    def middle(volume: Tensor) -> Tensor:
        return volume.select(axis + 2, volume.shape[axis + 2] // 2).clamp(0, 1)
    return [middle(inputs), middle(fake), middle(target)]


