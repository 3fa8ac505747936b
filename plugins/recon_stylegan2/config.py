"""Config sections of the ``stylegan2`` task: ``model``, ``data``, ``loss``, ``eval`` and ``ada``.

The core sections are subclassed (the trainer reads ``loss.gan_type``, ``loss.r1_gamma``,
``loss.reg_interval`` ... as for every task); ``ada`` is the task's own section. Value checks
that need several keys live in :func:`check_config` (``Task.validate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from recon.api import RunConfig
from recon.api import FileDataConfig, GenerativeEvalConfig, LossConfig, ModelConfig
from recon.api import ConfigError, ranged

__all__ = ["SG2ModelConfig", "SG2DataConfig", "SG2LossConfig", "SG2EvalConfig", "AdaConfig",
           "check_config", "ema_decay_for"]


@dataclass
class SG2ModelConfig(ModelConfig):
    """StyleGAN2 generator and discriminator sizes (``channels(res) = min(base // res, max)``)."""

    resolution: int = 32  # a power of two in [8, 1024]; the data is resized to it
    z_dim: int = ranged(128, ge=1)
    w_dim: int = ranged(128, ge=1)
    mapping_layers: int = ranged(4, ge=1)
    mapping_lr_multiplier: float = ranged(0.01, gt=0, lt=math.inf)
    channel_base: int = ranged(2048, ge=1)  # paper (config F): 32768
    channel_max: int = ranged(128, ge=1)  # paper: 512
    style_mixing_prob: float = ranged(0.9, ge=0, le=1)
    use_noise: bool = True
    mbstd_group_size: int = ranged(4, ge=1)
    # sampling only (`recon generate`); training and FID always use psi = 1
    truncation_psi: float = ranged(1.0, gt=-math.inf, lt=math.inf)
    truncation_cutoff: int = ranged(0, ge=0)  # truncate the first N ws only (0 = all)
    noise_mode: Literal["const", "random", "none"] = "const"  # `recon generate` (NVlabs generate.py: const)


@dataclass
class SG2DataConfig(FileDataConfig):
    """Images for unconditional training, resized to ``model.resolution`` squares.

    Values are in [0, 1] as every recon data source gives them; the task maps them to the
    generator's [-1, 1] (``x * 2 - 1``) before D sees them. Core's file options apply
    (normalisation, orientation, spacing, manifest role); the ``augment_*`` warps of paired
    tasks do not: D's inputs are augmented by ADA (``ada.*``) and the reals by ``data.augment``.
    """

    source: str = "faces"
    channels: int = 1  # 1 = gray, 3 = RGB (converted by mean / repetition)
    axis: int = 2  # slice axis of volumes (2 = axial for RAS volumes such as mni152)
    min_foreground: float = 0.1  # skip volume slices with less foreground than this
    square: Literal["auto", "crop", "pad"] = "auto"  # auto: pad slices of 3D volumes, centre-crop 2D images
    augment: Literal["none", "xflip", "dihedral"] = "none"  # dataset augmentation (xflip = StyleGAN --mirror)
    # class labels (conditional StyleGAN2): "" = unconditional; "contrast" = the mni152 slices in
    # the contrasts t1, t2, pd, labelled by contrast; "folder" = each image's parent folder is its class;
    # "csv" = a column of the CSV file data.labels_file (one row per image: its path and its class)
    labels: Literal["", "contrast", "folder", "csv"] = ""
    labels_file: str = ""  # data.labels=csv: the CSV (header row; paths relative to the CSV's folder)
    labels_column: str = "label"  # data.labels=csv: the column holding each image's class
    labels_path_column: str = "file"  # data.labels=csv: the column holding each image's path
    class_names: list[str] = field(default_factory=list)  # filled from the data; index = class id


@dataclass
class SG2LossConfig(LossConfig):
    """StyleGAN2's losses: non-saturating logistic, lazy R1 on D, lazy path length on G.

    Lazy regularization as StyleGAN2: R1 every ``reg_interval`` = 16 steps, path length every
    ``g_reg_interval`` = 4 steps; each penalty is multiplied by its interval when due.
    """

    gan_type: str = "ns"
    adversarial: float = 1.0
    l1: float = 0.0
    l2: float = 0.0
    perceptual: float = 0.0
    r1_gamma: float = 10.0
    reg_interval: int = 16
    pl_weight: float = ranged(2.0, ge=0, lt=math.inf)  # 0 disables path length regularization
    pl_decay: float = ranged(0.01, gt=0, le=1)  # EMA decay of the target length a
    pl_batch_shrink: int = ranged(2, ge=1)  # the penalty uses batch // pl_batch_shrink fresh latents


@dataclass
class SG2EvalConfig(GenerativeEvalConfig):
    """FID / KID / IS between generated samples and the split's real images (core's
    generative evaluation; ``eval.baselines``: the Gaussian and training-images rows)."""


@dataclass
class AdaConfig:
    """Adaptive discriminator augmentation (Karras et al. 2020), see ``recon.augment``."""

    enabled: bool = True
    target: float | None = ranged(0.6, gt=0, lt=1)  # r_t target; null = fixed p (``ada.p`` is then never adjusted)
    p: float = 0.0  # initial augmentation probability
    p_max: float = ranged(0.85, ge=0, le=1)  # augmentations leak into G's samples as p approaches 1
    interval: int = ranged(4, ge=1)  # D steps between adjustments of p
    speed_kimg: float = ranged(500.0, gt=0, lt=math.inf)  # thousands of images for p to move from 0 to 1
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


def check_config(cfg: RunConfig) -> None:
    """``ConfigError`` naming the key for values the stylegan2 task cannot use."""
    from recon_stylegan2.mapping import check_resolution

    m, d, loss, ada = cfg.model, cfg.data, cfg.loss, cfg.ada
    if d.patch_size != type(d)().patch_size:
        raise ConfigError(f"data.patch_size={d.patch_size}: stylegan2 trains on whole images resized to "
                          f"model.resolution ({m.resolution}); set model.resolution instead")
    try:
        check_resolution(m.resolution)
    except ValueError as exc:
        raise ConfigError(f"model.{exc}") from None
    if d.channels not in (1, 3):
        raise ConfigError(f"data.channels must be 1 or 3, got {d.channels}")
    for key in ("augment_affine", "augment_elastic", "augment_intensity"):
        if getattr(d, key):
            raise ConfigError(f"data.{key}={getattr(d, key)}: stylegan2 augments D's inputs with ADA "
                              "(ada.enabled, ada.*) and the real images with data.augment (xflip, dihedral)")
    for key in ("l1", "l2", "perceptual", "artifact"):
        if getattr(loss, key) != 0:
            raise ConfigError(f"loss.{key}={getattr(loss, key)}: stylegan2 is unconditional and has no "
                              f"reconstruction target; leave loss.l1, loss.l2, loss.perceptual and "
                              f"loss.artifact at 0")
    if loss.d_augment.strip().partition(":")[0].strip() == "ada":
        raise ConfigError(f"loss.d_augment={loss.d_augment}: stylegan2 has its own ADA section "
                          "(ada.enabled, ada.target, ada.preset, ...); use it")
    if loss.adversarial <= 0:
        raise ConfigError("loss.adversarial must be > 0: the adversarial loss is the generator's only loss")
    _finite("ada.p", ada.p, 0.0, ada.p_max)
    if d.labels == "" and d.class_names:
        raise ConfigError("data.class_names is set but data.labels is empty (unconditional); "
                          "set data.labels=contrast, folder or csv")
    if d.labels == "contrast":
        base = d.source.split(":", 1)[0]
        if base != "mni152":
            raise ConfigError(f"data.labels=contrast needs data.source=mni152 (its t1/t2/pd slices), "
                              f"got data.source={d.source}")
        if d.class_names and list(d.class_names) != list(CONTRAST_CLASSES):
            raise ConfigError(f"data.class_names={d.class_names}: data.labels=contrast has the classes "
                              f"{', '.join(CONTRAST_CLASSES)}")
        if cfg.eval.anatomy:
            raise ConfigError("eval.anatomy=true with data.labels=contrast: the anatomy metrics classify tissue by "
                              "one contrast's intensity order, and these images mix T1, T2 and PD; leave it unset")
    csv_keys = {"labels_file": "", "labels_column": "label", "labels_path_column": "file"}
    for key, default in csv_keys.items():
        if d.labels != "csv" and getattr(d, key) != default:
            raise ConfigError(f"data.{key}={getattr(d, key)} is set but data.labels={d.labels or '(empty)'}; "
                              "set data.labels=csv to read the classes from a CSV")
    if d.labels == "csv" and not d.labels_file:
        raise ConfigError("data.labels=csv needs data.labels_file (a CSV with the columns "
                          f"{d.labels_path_column} and {d.labels_column})")
    if len(set(d.class_names)) != len(d.class_names):
        raise ConfigError(f"data.class_names={d.class_names}: the names must be distinct")


#: the classes of ``data.labels=contrast`` (mni152 contrasts), in class-index order
CONTRAST_CLASSES = ("t1", "t2", "pd")
