"""Config sections of ``mri_progression``: ``model``, ``data`` and ``loss``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from recon.api import DataConfig, LossConfig, ModelConfig, ranged


@dataclass
class ProgressionModelConfig(ModelConfig):
    """The velocity-field U-Net generator and the conditional PatchGAN discriminator."""

    channels: int = ranged(16, ge=1)  # U-Net width of the first level (doubles per level, at most 8x)
    levels: int = ranged(3, ge=1, le=6)  # stride-2 levels of the U-Net
    smooth: float = ranged(2.0, ge=0, le=20)  # Gaussian std (pixels) smoothing the predicted velocity
    use_group: bool = True  # feed the group label (healthy / MCI / AD) to the generator
    half_resolution: bool = True  # the U-Net predicts the (smooth) velocity on a 2x coarser grid
    d_channels: int = ranged(32, ge=1)
    d_layers: int = ranged(3, ge=1, le=5)  # PatchGAN stride-2 layers
    d_norm: Literal["instance", "batch", "none"] = "instance"


@dataclass
class ProgressionDataConfig(DataConfig):
    """``simulated`` pseudo-subjects (:mod:`recon_progression.simulate`) or a CSV manifest path.

    ``subjects``, ``max_years``, ``noise`` and ``drift`` shape the simulation (``max_years`` also
    scales the interval the discriminator sees); whole 2D slices are used (``patch_size`` 0);
    ``gap`` has no role (splits are by subject) and must stay at its default."""

    source: str = "simulated"
    patch_size: int = ranged(0, ge=0)
    subjects: int = ranged(300, ge=4, le=100_000)  # pseudo-subjects simulated (split by subject)
    max_years: float = ranged(5.0, gt=0, le=30)  # training intervals are drawn uniformly in [0, max_years]
    noise: float = ranged(0.015, ge=0, lt=1)  # Gaussian noise std per visit (relative to the template's max)
    drift: float = ranged(0.02, ge=0, lt=1)  # per-visit intensity drift: gain std (smooth bias: half of it)


@dataclass
class ProgressionLossConfig(LossConfig):
    """Core's loss weights plus the region/volume terms: the predicted change of the ventricle and
    brain volumes (the baseline's soft maps warped by the predicted deformation) against the
    change the fixed segmentation measures on the true follow-up, relative to the baseline volume."""

    volume: float = ranged(1.0, ge=0)  # ventricle volume-change term
    brain_volume: float = ranged(5.0, ge=0)  # brain (parenchyma) volume-change term
