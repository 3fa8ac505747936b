"""Config sections of the ``progan`` task: ``model``, ``data``, ``loss`` and ``eval``.

Core's sections are subclassed (the trainer reads ``loss.gan_type``, ``loss.gp_weight``,
``loss.reg_interval`` ... as for every task). Checks that need several keys live in
:func:`check_config` (``Task.validate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from recon.api import ConfigError, FileDataConfig, GenerativeEvalConfig, LossConfig, ModelConfig, RunConfig, ranged

__all__ = ["PGDataConfig", "PGEvalConfig", "PGLossConfig", "PGModelConfig", "check_config"]


@dataclass
class PGModelConfig(ModelConfig):
    """Networks and growth schedule (``channels(res) = min(channel_base // res, channel_max)``)."""

    spatial_dims: int = ranged(2, ge=2, le=3)  # 2: images (conv2d); 3: volumes (conv3d)
    resolution: int = 32  # final side, start_resolution times a power of two
    start_resolution: int = 4  # the first level's side
    phase_steps: int = ranged(500, ge=0)  # steps per fade-in and per stabilising phase (0: no growing)
    z_dim: int = ranged(128, ge=1)
    channel_base: int = ranged(2048, ge=1)  # paper: 8192 (512 channels up to 32 x 32)
    channel_max: int = ranged(128, ge=1)  # paper: 512
    mbstd_group_size: int = ranged(4, ge=1)


@dataclass
class PGDataConfig(FileDataConfig):
    """Images (``model.spatial_dims=2``) or volumes (3) for unconditional training, in [0, 1].

    2D: each image (or volume slice along ``axis``) is made square (``square``) and resized
    to ``model.resolution``. 3D: each split's volume (slab) is rescaled by ``volume_scale`` and
    the networks see random ``resolution``-cubed crops of it (training) or a fixed seeded set of
    crops (evaluation).
    """

    source: str = "faces"
    channels: int = 1
    axis: int = 2
    min_foreground: float = 0.1
    square: Literal["auto", "crop", "pad"] = "auto"  # auto: pad slices of volumes, centre-crop 2D images
    augment: Literal["none", "xflip"] = "xflip"  # left-right flips of training images / crops
    volume_scale: float = ranged(0.5, gt=0, le=1)  # 3D: voxel-size factor before cropping (0.5: 2 mm voxels)
    crop_min_foreground: float = ranged(0.5, ge=0, le=1)  # 3D: crops with less brain than this are redrawn


@dataclass
class PGLossConfig(LossConfig):
    """WGAN-GP with the drift term, as the paper: ``E[D(fake)] - E[D(real)] + gp_weight *
    GP + drift * E[D(real)^2]`` for D, ``-E[D(fake)]`` for G."""

    gan_type: str = "wgan-gp"
    adversarial: float = 1.0
    l1: float = 0.0
    l2: float = 0.0
    perceptual: float = 0.0
    gp_weight: float = 10.0
    reg_interval: int = 1  # the penalty on every D step, as the paper
    drift: float = ranged(0.001, ge=0, lt=math.inf)  # epsilon_drift


@dataclass
class PGEvalConfig(GenerativeEvalConfig):
    """FID / KID between samples and the split's real images (core's generative evaluation).
    3D runs are scored on montages of each volume's three central slices (see docs/progan.md)."""


def check_config(cfg: RunConfig) -> None:
    """``ConfigError`` naming the key for values the progan task cannot use."""
    from recon_progan.schedule import levels_for

    m, d, loss = cfg.model, cfg.data, cfg.loss
    try:
        levels_for(m.start_resolution, m.resolution)
    except ValueError:
        raise ConfigError(f"model.resolution={m.resolution} must be model.start_resolution={m.start_resolution} "
                          "times a power of two (e.g. 4 -> 32)") from None
    if m.start_resolution < 4 or m.start_resolution & (m.start_resolution - 1):
        raise ConfigError(f"model.start_resolution={m.start_resolution} must be a power of two >= 4")
    if d.channels not in (1, 3):
        raise ConfigError(f"data.channels must be 1 or 3, got {d.channels}")
    if d.patch_size != type(d)().patch_size:
        raise ConfigError(f"data.patch_size={d.patch_size}: progan trains on model.resolution "
                          f"({m.resolution}) images or crops; set model.resolution instead")
    for key in ("augment_affine", "augment_elastic", "augment_intensity"):
        if getattr(d, key):
            raise ConfigError(f"data.{key}={getattr(d, key)}: progan augments with data.augment (xflip) only")
    for key in ("l1", "l2", "perceptual", "artifact"):
        if getattr(loss, key) != 0:
            raise ConfigError(f"loss.{key}={getattr(loss, key)}: progan is unconditional and has no "
                              "reconstruction target; leave it at 0")
    if loss.adversarial <= 0:
        raise ConfigError("loss.adversarial must be > 0: the adversarial loss is the generator's only loss")
    if loss.d_augment:
        raise ConfigError(f"loss.d_augment={loss.d_augment!r}: not supported by progan (D's input "
                          "resolution changes as the networks grow)")
    if cfg.trainer.compile:
        raise ConfigError("trainer.compile=true: progan's networks change their graph as they grow; leave it off")
    if m.g_network or m.d_network:
        raise ConfigError("model.g_network / model.d_network: progan trains its own growing networks only")
