"""Config sections of ``mri_motion``: ``model``, ``data`` and ``motion``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from recon.api import DataConfig, ModelConfig
from recon.api import ConfigError

Norm = Literal["instance", "batch"]


@dataclass
class MotionModelConfig(ModelConfig):
    """Residual U-Net generator (MONAI ``BasicUNet``) and PatchGAN discriminator."""

    features: tuple[int, int, int, int, int, int] = (16, 16, 32, 64, 128, 16)  # BasicUNet widths
    norm: Norm = "instance"
    residual: bool = True  # corrected = input + G(input)
    d_channels: int = 32
    d_layers: int = 3  # PatchGAN stride-2 layers (3 = the 70x70 pix2pix PatchGAN)
    d_norm: Literal["instance", "batch", "none"] = "instance"
    conditional_d: bool = True  # D sees (image, corrupted input) concatenated, as in pix2pix


@dataclass
class MotionDataConfig(DataConfig):
    """Clean 2D slices; the motion is simulated on each whole slice, then patches are cropped."""

    source: str = "mni152"
    axis: int = 2  # slice axis of volumes (2 = axial for RAS volumes)
    min_foreground: float = 0.1  # skip slices with less foreground than this
    patch_size: int = 64  # training patch side (0 = whole slices)
    augment: bool = True  # random flips / 90-degree rotations of the (corrupted, clean) pair


@dataclass
class MotionConfig:
    """Simulated rigid in-plane motion (see :mod:`recon_motion.simulate`)."""

    max_rotation: float = 3.0  # degrees
    max_translation: float = 3.0  # pixels
    num_events: int = 2  # moves during the acquisition (0 = no motion)
    fraction_corrupted: float = 0.5  # fraction of k-space rows acquired after the first move
    center_fraction: float = 0.08  # central k-space rows always in the reference pose
    ordering: Literal["sequential", "centre_out"] = "sequential"


def check_motion(m: MotionConfig) -> None:
    """Raise ``ConfigError`` naming the key for values the simulation cannot use."""
    for key in ("max_rotation", "max_translation", "fraction_corrupted", "center_fraction"):
        if not math.isfinite(getattr(m, key)):
            raise ConfigError(f"motion.{key} must be a finite number, got {getattr(m, key)}")
    if not 0 <= m.max_rotation <= 180:
        raise ConfigError(f"motion.max_rotation must be in [0, 180] degrees, got {m.max_rotation}")
    if m.max_translation < 0:
        raise ConfigError(f"motion.max_translation must be >= 0 pixels, got {m.max_translation}")
    if m.num_events < 0:
        raise ConfigError(f"motion.num_events must be >= 0, got {m.num_events}")
    if not 0 <= m.fraction_corrupted <= 1:
        raise ConfigError(f"motion.fraction_corrupted must be in [0, 1], got {m.fraction_corrupted}")
    if not 0 <= m.center_fraction < 1:
        raise ConfigError(f"motion.center_fraction must be in [0, 1), got {m.center_fraction}")
    if m.fraction_corrupted + m.center_fraction > 1:
        raise ConfigError(f"motion.fraction_corrupted + motion.center_fraction must be <= 1 "
                          f"(got {m.fraction_corrupted} + {m.center_fraction})")
