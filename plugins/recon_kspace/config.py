"""Config sections of ``mri_kspace``: ``mask``, ``model``, ``data`` and ``loss``.

Every key is settable with ``--set section.key=value``; :func:`check_config` turns values the
physics cannot use into a ``ConfigError`` (exit 2) naming the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from recon.api import LossConfig, ModelConfig
from recon.api import FileDataConfig
from recon.api import ConfigError

MaskKind = Literal["equispaced", "random", "poisson"]


@dataclass
class MaskConfig:
    """The undersampling mask (fastMRI conventions, see docs/kspace.md)."""

    kind: MaskKind = "equispaced"  # equispaced | random Cartesian columns, or 2D variable-density poisson
    acceleration: float = 4.0  # sampled fraction = 1 / acceleration (1 = fully sampled)
    center_fraction: float | None = None  # fully sampled centre; unset: fastMRI's 4x -> 0.08, 8x -> 0.04
    seed_mode: Literal["random", "fixed"] = "random"  # a new mask per sample, or one mask for all
    seed: int = 0  # the mask of `fixed` mode and of `recon predict` on images / fully sampled files


@dataclass
class KspaceModelConfig(ModelConfig):
    """Generator (cascade of U-Nets with data consistency, or MONAI's VarNet) and PatchGAN D."""

    generator: Literal["cascade", "varnet"] = "cascade"
    cascades: int = 5  # U-Net + DC stages (cascade) or VarNet blocks (varnet)
    chans: int = 8  # U-Net width at the top level (cascade)
    depth: int = 2  # U-Net poolings (cascade)
    convs: int = 1  # convs per U-Net level (cascade)
    dc: Literal["hard", "soft"] = "hard"  # hard replacement or learned soft weight (cascade)
    init_lambda: float = 10.0  # starting soft-DC weight lam (w = lam / (1 + lam))
    share_weights: bool = False  # one U-Net reused by every cascade
    varnet_features: tuple[int, ...] = (8, 8, 16, 32, 64, 8)  # MONAI ComplexUnet widths (varnet)
    sens_features: tuple[int, ...] = (4, 4, 8, 16, 32, 4)  # MONAI coil-sensitivity U-Net widths (varnet)
    d_channels: int = 32  # PatchGAN base width
    d_layers: int = 3  # PatchGAN stride-2 layers (3 = the 70x70 pix2pix PatchGAN)
    d_norm: Literal["instance", "batch", "none"] = "instance"


@dataclass
class KspaceDataConfig(FileDataConfig):
    """Where slices come from and how k-space is simulated from magnitude images.

    ``source``: ``mni152`` (built-in T1 slices), a folder/file of images or NIfTI volumes
    (simulated k-space), or a folder/file of fastMRI ``.h5`` (real k-space, used as is).
    """

    source: str = "mni152"
    coils: int = 1  # simulated receive coils (1 = single-coil); ignored for fastMRI files
    max_phase: float = math.pi  # smooth random phase amplitude (0 = magnitude-only k-space: the data crime)
    phase_cutoff: int = 2  # the phase is a random field on the (2c+1)^2 lowest spatial frequencies
    noise_std: float = 0.0  # complex Gaussian k-space noise (per real/imag part, image scale [0, 1])
    patch_size: int = 0  # training crop height in rows (readout); 0 = whole slices
    patch_width: int = 0  # training crop width (phase encode); 0 = full width, as at evaluation
    augment: bool = True  # random flips of training images (before the simulation)


@dataclass
class KspaceLossConfig(LossConfig):
    """Loss weights: image L1 on magnitudes (``l1``), k-space L1 (``kspace``), adversarial, perceptual."""

    gan_type: Literal["ns", "lsgan", "hinge", "wgan-gp", "ragan"] = "lsgan"
    adversarial: float = 1e-3
    kspace: float = 0.0  # mean |fft2c(S x) - k_full| over coils and k-space (image-scale units)


def check_config(cfg: Any) -> None:
    """Raise ``ConfigError`` naming the key for values the task cannot use."""
    m = cfg.mask
    if not (math.isfinite(m.acceleration) and m.acceleration >= 1):
        raise ConfigError(f"mask.acceleration must be a number >= 1 (1 = fully sampled), got {m.acceleration}")
    if m.center_fraction is not None and not 0 <= m.center_fraction < 1:
        raise ConfigError(f"mask.center_fraction must be in [0, 1), got {m.center_fraction}")
    d = cfg.data
    if d.coils < 1:
        raise ConfigError(f"data.coils must be >= 1 (1 = single-coil), got {d.coils}")
    if not (math.isfinite(d.max_phase) and d.max_phase >= 0):
        raise ConfigError(f"data.max_phase must be >= 0 radians, got {d.max_phase}")
    if d.phase_cutoff < 1:
        raise ConfigError(f"data.phase_cutoff must be >= 1, got {d.phase_cutoff}")
    if not (math.isfinite(d.noise_std) and d.noise_std >= 0):
        raise ConfigError(f"data.noise_std must be >= 0, got {d.noise_std}")
    if d.patch_size < 0 or d.patch_width < 0:
        raise ConfigError("data.patch_size and data.patch_width must be >= 0 (0 = whole slices)")
    mo = cfg.model
    for key in ("cascades", "chans", "convs", "d_channels", "d_layers"):
        if getattr(mo, key) < 1:
            raise ConfigError(f"model.{key} must be >= 1, got {getattr(mo, key)}")
    if mo.depth < 0:
        raise ConfigError(f"model.depth must be >= 0, got {mo.depth}")
    if not (math.isfinite(mo.init_lambda) and mo.init_lambda > 0):
        raise ConfigError(f"model.init_lambda must be > 0, got {mo.init_lambda}")
    for key in ("varnet_features", "sens_features"):
        widths = getattr(mo, key)
        if len(widths) != 6 or any(w < 1 for w in widths):
            raise ConfigError(f"model.{key} must be 6 positive widths (MONAI BasicUNet), got {list(widths)}")
    if not (math.isfinite(cfg.loss.kspace) and cfg.loss.kspace >= 0):
        raise ConfigError(f"loss.kspace must be >= 0, got {cfg.loss.kspace}")
