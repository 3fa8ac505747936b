"""Config sections of ``mri_translation``: ``model`` and ``data``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from recon.api import ModelConfig, ranged
from recon.api import FileDataConfig


@dataclass
class TranslationModelConfig(ModelConfig):
    """pix2pix U-Net generator and conditional PatchGAN discriminator.

    ``num_downs=8``, ``channels=64`` is pix2pix's U-Net-256 (encoder C64-C128-C256-C512 x5);
    ``d_layers=3``, ``d_channels=64`` its 70x70 PatchGAN.
    """

    # stride-2 levels of the U-Net (inputs are padded to a multiple of 2**num_downs)
    num_downs: int = ranged(5, ge=2, le=10)
    channels: int = ranged(32, ge=1)  # width of the first level; doubles per level up to 8x
    norm: Literal["batch", "instance", "none"] = "batch"
    dropout: float = ranged(0.0, ge=0, lt=1)  # in the (up to three) decoder blocks after the bottleneck; pix2pix: 0.5
    # tanh: pix2pix's bounded output, mapped to [0, 1]; linear: unbounded; lookup_residual:
    # the U-Net adds a correction to the 1-D intensity lookup fitted on the training pairs
    output: Literal["tanh", "linear", "lookup_residual"] = "tanh"
    d_arch: Literal["patch", "vgg"] = "patch"  # the pix2pix PatchGAN, or SRGAN's VGG-style classifier
    d_channels: int = ranged(32, ge=1)
    d_layers: int = ranged(3, ge=1)  # patch: stride-2 layers (3 = the 70x70 pix2pix PatchGAN); vgg: conv stages
    d_norm: Literal["batch", "instance", "none"] = "batch"
    d_fc: int = ranged(128, ge=1)  # vgg only: width of the dense layer


@dataclass
class TranslationDataConfig(FileDataConfig):
    """Aligned slices of two contrasts: ``source_contrast`` (the input) -> ``target``.

    Roles are contrast names of the ``mni152`` source (``t1``, ``t2``, ``pd``, ``t1sim``) or
    column names of a CSV/JSON manifest (``--data pairs.csv``).
    """

    source: str = "mni152"
    source_contrast: str = "t1"
    target: str = "t2"
    resample: bool = False  # resample roles whose grid differs onto the source role's (else refused)
    patch_size: int = 64  # training patch side; smaller slices are zero-padded to it
    augment: bool = True  # random flips / 90-degree rotations, the same for both contrasts
    # mni152 only: Rician noise of every contrast (0.03 = BrainWeb's 3 %)
    rician_noise: float = ranged(0.0, ge=0, lt=math.inf)
