"""The ``data`` config fields of the data layer, for tasks to subclass, and specs built from them.

A task whose data section subclasses :class:`FileDataConfig` gets every option of the data
layer on the command line (``--set data.normalize=zscore``, ``data.spacing=[1,1,1]``,
``data.augment_affine=0.5`` ...) and builds its loader specs with :func:`image_spec`,
:func:`pair_spec` and :func:`augment_spec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from recon.config import DataConfig
from recon.data.augmentation import AugmentSpec
from recon.data.images2d import ImageSpec
from recon.data.pairs2d import PairSpec


@dataclass
class FileDataConfig(DataConfig):
    """Data-layer options on top of the core ``data`` section."""

    axis: int = 2  # slice axis of volumes (2 = axial for RAS volumes)
    min_foreground: float = 0.1  # skip slices with less foreground than this fraction
    normalize: Literal["auto", "percentile", "zscore", "none"] = "auto"  # per-volume intensity map
    orientation: str = "RAS"  # reorient 3D volumes to these axis codes ("" keeps the file's)
    spacing: tuple[float, ...] = ()  # resample 3D volumes to this voxel size in mm ([] keeps it)
    role: str = ""  # manifest column to read (single-role tasks; default: the first column)
    augment_affine: float = 0.0  # probability of a random affine per training patch
    augment_elastic: float = 0.0  # probability of a random elastic deformation
    augment_intensity: float = 0.0  # probability of a random gamma/intensity scaling


def _common(cfg: Any, channels: int, multiple: int) -> dict[str, Any]:
    d = cfg.data
    return dict(source=d.source, axis=d.axis, multiple=multiple, min_foreground=d.min_foreground,
                val_fraction=d.val_fraction, test_fraction=d.test_fraction, gap=d.gap, seed=cfg.seed,
                holdout=d.holdout, skip_bad=d.skip_bad, channels=channels, normalize=d.normalize,
                orientation=d.orientation, spacing=tuple(d.spacing), cache_dir=d.cache_dir, role=d.role)


def image_spec(cfg: Any, channels: int = 1, multiple: int = 1) -> ImageSpec:
    """The :class:`ImageSpec` of a run config whose ``data`` is a :class:`FileDataConfig`."""
    return ImageSpec(**_common(cfg, channels, multiple))


def pair_spec(cfg: Any, roles: tuple[str, ...], channels: int = 1, multiple: int = 1,
              rician_noise: float = 0.0) -> PairSpec:
    """The :class:`PairSpec` of a run config (``roles`` e.g. ``(source_role, target_role)``)."""
    common = _common(cfg, channels, multiple)
    common.pop("role")
    return PairSpec(**common, roles=tuple(roles), resample=cfg.data.resample, rician_noise=rician_noise)


def augment_spec(cfg: Any) -> AugmentSpec:
    """The training-time augmentation (affine, elastic, intensity) set by ``cfg.data``."""
    d = cfg.data
    return AugmentSpec(affine=d.augment_affine, elastic=d.augment_elastic, intensity=d.augment_intensity)
