"""Config sections of ``inpainting``: ``model``, ``data`` and ``mask`` (the core ``loss``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from recon.api import RunConfig
from recon.api import FileDataConfig, ModelConfig
from recon.api import ConfigError, ranged
from recon_inpainting.masks import MaskConfig

__all__ = ["InpaintModelConfig", "InpaintDataConfig", "MaskConfig", "check_config", "discriminator_arch"]


@dataclass
class InpaintModelConfig(ModelConfig):
    """The generator (``unet``, Pathak's ``context_encoder`` or DeepFill v2's ``gated``) and the
    discriminator (``d_arch``: the PatchGAN, or the SN-PatchGAN; ``auto`` = SN-PatchGAN for
    ``gated``, PatchGAN otherwise)."""

    arch: Literal["unet", "context_encoder", "gated"] = "unet"
    features: tuple[int, int, int, int, int, int] = (16, 32, 64, 128, 128, 16)  # unet: BasicUNet widths
    norm: Literal["instance", "batch"] = "instance"  # unet (BatchNorm statistics do not follow the EMA weights)
    residual: bool = False  # unet: output = filled input + UNet (learn a correction of mask.fill)
    ce_channels: int = 64  # context encoder: width of the first layer (doubles to 8x)
    ce_bottleneck: int = 4000  # context encoder: bottleneck channels (Pathak: 4000)
    gated_channels: int = ranged(24, ge=2)  # gated: width of the first layer (DeepFill v2: 48), up to 4x
    d_arch: Literal["auto", "patchgan", "sn_patchgan"] = "auto"  # auto: sn_patchgan for gated, else patchgan
    d_channels: int = 32
    d_layers: int = 3  # patchgan: stride-2 layers (3: 70x70); sn_patchgan: 5x5 stride-2 layers (paper: 6)
    d_norm: Literal["instance", "batch", "none"] = "instance"  # patchgan only (sn_patchgan: spectral norm)


@dataclass
class InpaintDataConfig(FileDataConfig):
    """Random training patches; fixed evaluation patches cut from the evaluation images (every
    data option of core: normalisation, orientation, spacing, augmentation of the clean patch)."""

    source: str = "natural"
    channels: int = 3  # 3 = RGB, 1 = gray (e.g. data.source=mni152)
    axis: int = 2  # slice axis of volumes
    min_foreground: float = 0.0  # skip volume slices with less foreground than this
    patch_size: int = ranged(64, ge=16)  # side of training and evaluation patches
    eval_patches: int = ranged(16, ge=1)  # evaluation patches per evaluation image
    # redraw patches flatter than this (std of [0, 1] values; 0 = keep all)
    min_patch_std: float = ranged(0.05, ge=0, lt=math.inf)
    augment: bool = True  # random flips / 90-degree rotations of training patches


def check_config(cfg: RunConfig) -> None:
    """``ConfigError`` naming the key for mask/data/model values that cannot work."""
    m, d, model = cfg.mask, cfg.data, cfg.model
    if m.min_size > m.size:
        raise ConfigError(f"mask.min_size ({m.min_size}) must be <= mask.size ({m.size})")
    if d.channels not in (1, 3):
        raise ConfigError(f"data.channels must be 1 or 3, got {d.channels}")
    if model.arch == "context_encoder" and d.patch_size % 32:
        raise ConfigError(f"model.arch=context_encoder needs data.patch_size to be a multiple of 32, "
                          f"got {d.patch_size}")
    if any(f < 1 for f in model.features) or model.ce_channels < 1 or model.ce_bottleneck < 1:
        raise ConfigError("model widths (features, ce_channels, ce_bottleneck) must be >= 1")
    if discriminator_arch(model) == "sn_patchgan" and model.d_layers < 1:
        raise ConfigError(f"model.d_layers must be >= 1 for the SN-PatchGAN, got {model.d_layers}")


def discriminator_arch(model: InpaintModelConfig) -> str:
    """``model.d_arch`` resolved: ``auto`` is the SN-PatchGAN for ``gated``, the PatchGAN otherwise."""
    if model.d_arch != "auto":
        return model.d_arch
    return "sn_patchgan" if model.arch == "gated" else "patchgan"
