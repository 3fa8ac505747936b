"""Config sections of ``mri_motion``: ``model``, ``data`` and ``motion``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from recon.api import FileDataConfig, ModelConfig
from recon.api import ConfigError, check_ranges, ranged

Norm = Literal["instance", "batch"]


@dataclass
class MotionModelConfig(ModelConfig):
    """Residual U-Net generator (MONAI ``BasicUNet``) and PatchGAN discriminator."""

    features: tuple[int, int, int, int, int, int] = (16, 16, 32, 64, 128, 16)  # BasicUNet widths
    norm: Norm = "instance"
    residual: bool = True  # corrected = input + G(input)
    d_arch: Literal["patch", "vgg"] = "patch"  # the pix2pix PatchGAN, or SRGAN's VGG-style classifier
    d_channels: int = 32
    d_layers: int = 3  # patch: stride-2 layers (3 = the 70x70 pix2pix PatchGAN); vgg: conv stages
    d_norm: Literal["instance", "batch", "none"] = "instance"
    d_fc: int = 128  # vgg only: width of the dense layer
    conditional_d: bool = True  # D sees (image, corrupted input) concatenated, as in pix2pix


@dataclass
class MotionDataConfig(FileDataConfig):
    """Clean 2D slices; the motion is simulated on each whole slice, then patches are cropped
    (every data option of core: normalisation, orientation, spacing, augmentation of the clean slice)."""

    source: str = "mni152"
    axis: int = 2  # slice axis of volumes (2 = axial for RAS volumes)
    min_foreground: float = 0.1  # skip slices with less foreground than this
    patch_size: int = 64  # training patch side (0 = whole slices)
    augment: bool = True  # random flips / 90-degree rotations of the (corrupted, clean) pair


@dataclass
class MotionConfig:
    """Simulated rigid in-plane motion (see :mod:`recon_motion.simulate`)."""

    max_rotation: float = ranged(3.0, ge=0, le=180)  # degrees
    max_translation: float = ranged(3.0, ge=0, lt=math.inf)  # pixels
    num_events: int = ranged(2, ge=0)  # moves during the acquisition (0 = no motion)
    fraction_corrupted: float = ranged(0.5, ge=0, le=1)  # fraction of k-space rows acquired after the first move
    center_fraction: float = ranged(0.08, ge=0, lt=1)  # central k-space rows always in the reference pose
    ordering: Literal["sequential", "centre_out"] = "sequential"


def check_motion(m: MotionConfig) -> None:
    """Raise ``ConfigError`` naming the key for values the simulation cannot use: the ranges
    declared on the fields, then the budget the two fractions share."""
    check_ranges({"motion": m})
    if m.fraction_corrupted + m.center_fraction > 1:
        raise ConfigError(f"motion.fraction_corrupted + motion.center_fraction must be <= 1 "
                          f"(got {m.fraction_corrupted} + {m.center_fraction})")
