"""Config sections of ``mri_kspace``: ``mask``, ``model``, ``data`` and ``loss``.

Every key is settable with ``--set section.key=value``; :func:`check_config` turns values the
physics cannot use into a ``ConfigError`` (exit 2) naming the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from recon.api import RunConfig
from recon.api import LossConfig, ModelConfig
from recon.api import FileDataConfig
from recon.api import ConfigError, ranged

MaskKind = Literal["equispaced", "random", "poisson"]


@dataclass
class MaskConfig:
    """The undersampling mask (fastMRI conventions, see docs/kspace.md)."""

    kind: MaskKind = "equispaced"  # equispaced | random Cartesian columns, or 2D variable-density poisson
    acceleration: float = ranged(4.0, ge=1, lt=math.inf)  # sampled fraction = 1 / acceleration (1 = fully sampled)
    # fully sampled centre; unset: fastMRI's 4x -> 0.08, 8x -> 0.04
    center_fraction: float | None = ranged(None, ge=0, lt=1)
    seed_mode: Literal["random", "fixed"] = "random"  # a new mask per sample, or one mask for all
    seed: int = 0  # the mask of `fixed` mode and of `recon predict` on images / fully sampled files


@dataclass
class KspaceModelConfig(ModelConfig):
    """Generator (cascade of U-Nets with data consistency, or MONAI's VarNet) and PatchGAN D."""

    generator: Literal["cascade", "varnet"] = "cascade"
    cascades: int = ranged(5, ge=1)  # U-Net + DC stages (cascade) or VarNet blocks (varnet)
    chans: int = ranged(8, ge=1)  # U-Net width at the top level (cascade)
    depth: int = ranged(2, ge=0)  # U-Net poolings (cascade)
    convs: int = ranged(1, ge=1)  # convs per U-Net level (cascade)
    dc: Literal["hard", "soft"] = "hard"  # hard replacement or learned soft weight (cascade)
    init_lambda: float = ranged(10.0, gt=0, lt=math.inf)  # starting soft-DC weight lam (w = lam / (1 + lam))
    share_weights: bool = False  # one U-Net reused by every cascade
    varnet_features: tuple[int, ...] = (8, 8, 16, 32, 64, 8)  # MONAI ComplexUnet widths (varnet)
    sens_features: tuple[int, ...] = (4, 4, 8, 16, 32, 4)  # MONAI coil-sensitivity U-Net widths (varnet)
    d_arch: Literal["patch", "vgg"] = "patch"  # the pix2pix PatchGAN, or SRGAN's VGG-style classifier
    d_channels: int = ranged(32, ge=1)  # D base width
    d_layers: int = ranged(3, ge=1)  # patch: stride-2 layers (3 = the 70x70 pix2pix PatchGAN); vgg: conv stages
    d_norm: Literal["instance", "batch", "none"] = "instance"
    d_fc: int = ranged(128, ge=1)  # vgg only: width of the dense layer


@dataclass
class KspaceDataConfig(FileDataConfig):
    """Where slices come from and how k-space is simulated from magnitude images.

    ``source``: ``mni152`` (built-in T1 slices), a folder/file of images or NIfTI volumes
    (simulated k-space), or a folder/file of fastMRI ``.h5`` (real k-space, used as is).
    """

    source: str = "mni152"
    coils: int = ranged(1, ge=1)  # simulated receive coils (1 = single-coil); ignored for fastMRI files
    # smooth random phase amplitude (0 = magnitude-only k-space: the data crime)
    max_phase: float = ranged(math.pi, ge=0, lt=math.inf)
    phase_cutoff: int = ranged(2, ge=1)  # the phase is a random field on the (2c+1)^2 lowest spatial frequencies
    # complex Gaussian k-space noise (per real/imag part, image scale [0, 1])
    noise_std: float = ranged(0.0, ge=0, lt=math.inf)
    patch_size: int = ranged(0, ge=0)  # training crop height in rows (readout); 0 = whole slices
    patch_width: int = ranged(0, ge=0)  # training crop width (phase encode); 0 = full width, as at evaluation
    augment: bool = True  # random flips of training images (before the simulation)


@dataclass
class KspaceLossConfig(LossConfig):
    """Loss weights: image L1 on magnitudes (``l1``), k-space L1 (``kspace``), adversarial, perceptual."""

    gan_type: str = "lsgan"
    adversarial: float = 1e-3
    # mean |fft2c(S x) - k_full| over coils and k-space (image-scale units)
    kspace: float = ranged(0.0, ge=0, lt=math.inf)


def check_config(cfg: RunConfig) -> None:
    """Raise ``ConfigError`` naming the key for values the task cannot use beyond the ranges
    declared on the fields (which core checks first)."""
    mo = cfg.model
    for key in ("varnet_features", "sens_features"):
        widths = getattr(mo, key)
        if len(widths) != 6 or any(w < 1 for w in widths):
            raise ConfigError(f"model.{key} must be 6 positive widths (MONAI BasicUNet), got {list(widths)}")
