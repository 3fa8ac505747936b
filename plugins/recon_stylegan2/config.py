"""Config sections of the ``stylegan2`` task: ``model``, ``data``, ``loss``, ``eval`` and ``ada``.

The core sections are subclassed (the trainer reads ``loss.gan_type``, ``loss.r1_gamma``,
``loss.reg_interval`` ... as for every task); ``ada`` is the task's own section. Value checks
that need several keys live in :func:`check_config` (``Task.validate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from recon.api import DataConfig, EvalConfig, LossConfig, ModelConfig
from recon.api import ConfigError

__all__ = ["SG2ModelConfig", "SG2DataConfig", "SG2LossConfig", "SG2EvalConfig", "AdaConfig",
           "check_config", "ema_decay_for"]


@dataclass
class SG2ModelConfig(ModelConfig):
    """StyleGAN2 generator and discriminator sizes (``channels(res) = min(base // res, max)``)."""

    resolution: int = 32  # a power of two in [8, 1024]; the data is resized to it
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 4
    mapping_lr_multiplier: float = 0.01
    channel_base: int = 2048  # paper (config F): 32768
    channel_max: int = 128  # paper: 512
    style_mixing_prob: float = 0.9
    use_noise: bool = True
    mbstd_group_size: int = 4
    # sampling only (`recon generate`); training and FID always use psi = 1
    truncation_psi: float = 1.0
    truncation_cutoff: int = 0  # truncate the first N ws only (0 = all)
    noise_mode: Literal["const", "random", "none"] = "const"  # `recon generate` (NVlabs generate.py: const)


@dataclass
class SG2DataConfig(DataConfig):
    """Images for unconditional training, resized to ``model.resolution`` squares.

    Values are in [0, 1] as every recon data source gives them; the task maps them to the
    generator's [-1, 1] (``x * 2 - 1``) before D sees them.
    """

    source: str = "faces"
    channels: int = 1  # 1 = gray, 3 = RGB (converted by mean / repetition)
    axis: int = 2  # slice axis of volumes (2 = axial for RAS volumes such as mni152)
    min_foreground: float = 0.1  # skip volume slices with less foreground than this
    square: Literal["auto", "crop", "pad"] = "auto"  # auto: pad slices of 3D volumes, centre-crop 2D images
    augment: Literal["none", "xflip", "dihedral"] = "none"  # dataset augmentation (xflip = StyleGAN --mirror)


@dataclass
class SG2LossConfig(LossConfig):
    """StyleGAN2's losses: non-saturating logistic, lazy R1 on D, lazy path length on G.

    Lazy regularization as StyleGAN2: R1 every ``reg_interval`` = 16 steps, path length every
    ``g_reg_interval`` = 4 steps; each penalty is multiplied by its interval when due.
    """

    gan_type: Literal["ns", "lsgan", "hinge", "wgan-gp", "ragan"] = "ns"
    adversarial: float = 1.0
    l1: float = 0.0
    l2: float = 0.0
    perceptual: float = 0.0
    r1_gamma: float = 10.0
    reg_interval: int = 16
    pl_weight: float = 2.0  # 0 disables path length regularization
    pl_decay: float = 0.01  # EMA decay of the target length a
    pl_batch_shrink: int = 2  # the penalty uses batch // pl_batch_shrink fresh latents


@dataclass
class SG2EvalConfig(EvalConfig):
    """FID / KID / IS between generated samples and the split's real images."""

    lpips: bool = False  # unused: no paired images in an unconditional task
    fid: bool = True  # false: skip the Inception metrics (noted in eval.json's conventions)
    n_samples: int = 1000  # generated samples scored on the test split (`recon eval`, end of run)
    val_samples: int = 200  # generated samples scored on the validation split
    kid_subsets: int = 100
    kid_subset_size: int = 1000  # capped by the number of real and generated samples
    inception_weights: str = ""  # "" = auto; pt_inception | fid_helper | a file path
    baselines: bool = True  # score the Gaussian baseline and the training-images reference


@dataclass
class AdaConfig:
    """Adaptive discriminator augmentation (Karras et al. 2020), see ``recon.augment``."""

    enabled: bool = True
    target: float | None = 0.6  # r_t target; null = fixed p (``ada.p`` is then never adjusted)
    p: float = 0.0  # initial augmentation probability
    p_max: float = 0.85  # augmentations leak into G's samples as p approaches 1
    interval: int = 4  # D steps between adjustments of p
    speed_kimg: float = 500.0  # thousands of images for p to move from 0 to 1
    preset: Literal["b", "g", "c", "bg", "bgc"] = "bgc"


def ema_decay_for(batch_size: int, ema_kimg: float) -> float:
    """stylegan2-ada's EMA: half-life of ``ema_kimg`` thousand images -> per-step decay.

    ``decay = 0.5 ** (batch_size / (ema_kimg * 1000))``; e.g. batch 32, 10 kimg -> 0.99778.
    """
    return 0.5 ** (batch_size / (ema_kimg * 1000.0))


def _finite(key: str, value: float, low: float, high: float = math.inf, *, low_open: bool = False) -> None:
    bad = not math.isfinite(value) or value > high or (value <= low if low_open else value < low)
    if bad:
        bound = f"{'>' if low_open else '>='} {low:g}" + (f" and <= {high:g}" if high != math.inf else "")
        raise ConfigError(f"{key}={value!r} is out of range (must be {bound})")


def check_config(cfg: Any) -> None:
    """``ConfigError`` naming the key for values the stylegan2 task cannot use."""
    from recon_stylegan2.mapping import check_resolution

    m, d, loss, ev, ada = cfg.model, cfg.data, cfg.loss, cfg.eval, cfg.ada
    if d.patch_size != type(d)().patch_size:
        raise ConfigError(f"data.patch_size={d.patch_size}: stylegan2 trains on whole images resized to "
                          f"model.resolution ({m.resolution}); set model.resolution instead")
    try:
        check_resolution(m.resolution)
    except ValueError as exc:
        raise ConfigError(f"model.{exc}") from None
    for key in ("z_dim", "w_dim", "channel_base", "channel_max", "mbstd_group_size"):
        if getattr(m, key) < 1:
            raise ConfigError(f"model.{key} must be >= 1, got {getattr(m, key)}")
    if m.mapping_layers < 1:
        raise ConfigError(f"model.mapping_layers must be >= 1, got {m.mapping_layers}")
    _finite("model.mapping_lr_multiplier", m.mapping_lr_multiplier, 0.0, low_open=True)
    _finite("model.style_mixing_prob", m.style_mixing_prob, 0.0, 1.0)
    _finite("model.truncation_psi", m.truncation_psi, -math.inf)
    if m.truncation_cutoff < 0:
        raise ConfigError(f"model.truncation_cutoff must be >= 0 (0 = all layers), got {m.truncation_cutoff}")
    if d.channels not in (1, 3):
        raise ConfigError(f"data.channels must be 1 or 3, got {d.channels}")
    for key in ("l1", "l2", "perceptual", "artifact"):
        if getattr(loss, key) != 0:
            raise ConfigError(f"loss.{key}={getattr(loss, key)}: stylegan2 is unconditional and has no "
                              f"reconstruction target; leave loss.l1, loss.l2, loss.perceptual and "
                              f"loss.artifact at 0")
    if loss.adversarial <= 0:
        raise ConfigError("loss.adversarial must be > 0: the adversarial loss is the generator's only loss")
    _finite("loss.pl_weight", loss.pl_weight, 0.0)
    _finite("loss.pl_decay", loss.pl_decay, 0.0, 1.0, low_open=True)
    if loss.pl_batch_shrink < 1:
        raise ConfigError(f"loss.pl_batch_shrink must be >= 1, got {loss.pl_batch_shrink}")
    for key in ("n_samples", "val_samples"):
        if getattr(ev, key) < 2:
            raise ConfigError(f"eval.{key} must be >= 2 (FID needs two samples), got {getattr(ev, key)}")
    if ev.kid_subsets < 1 or ev.kid_subset_size < 2:
        raise ConfigError("eval.kid_subsets must be >= 1 and eval.kid_subset_size >= 2")
    _finite("ada.p_max", ada.p_max, 0.0, 1.0)
    _finite("ada.p", ada.p, 0.0, ada.p_max)
    if ada.target is not None:
        _finite("ada.target", ada.target, 0.0, 1.0, low_open=True)
        if ada.target >= 1:
            raise ConfigError(f"ada.target must be below 1, got {ada.target}")
    if ada.interval < 1:
        raise ConfigError(f"ada.interval must be >= 1, got {ada.interval}")
    _finite("ada.speed_kimg", ada.speed_kimg, 0.0, low_open=True)
