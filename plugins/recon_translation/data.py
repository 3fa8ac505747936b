"""Paired slices for ``mri_translation``: which contrasts, training patches, evaluation slices.

Pairs come from :func:`recon.data.pairs2d.load_split_pairs` (the ``mni152`` brain in several
contrasts on one grid, or a CSV/JSON manifest whose columns name the contrasts), intensities
in [0, 1] per volume. Training item ``i`` is a pure function of ``(seed, i)``: a random slice,
zero-padded to the patch size when smaller, and one random crop, flip/rotation and (optional)
affine/elastic warp applied to the stacked ``(source, target)`` pair, so the two stay aligned
pixel for pixel; intensity augmentation touches the source only (the target contrast is
what the network must learn to produce, so it is never altered).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import AugmentSpec, build_augmentation
from recon.api import pair_spec
from recon.api import PairSpec, load_split_pairs
from recon.api import RandomPatchDataset
from recon.api import ConfigError

Pairs = tuple[tuple[int, dict[str, np.ndarray]], ...]


def roles(cfg: RunConfig) -> tuple[str, str]:
    """``(source role, target role)`` of a config: ``data.source_contrast``, ``data.target``."""
    return cfg.data.source_contrast.strip(), cfg.data.target.strip()


def check_roles(cfg: RunConfig, builtin: tuple[str, str] | None) -> None:
    """Refuse empty or equal roles, and contrasts the built-in source does not have.

    Args:
        builtin: ``(name, arg)`` when ``data.source`` is a registered source, else ``None``
            (a manifest: its columns are checked when it is read).
    """
    source, target = roles(cfg)
    if not source or not target:
        raise ConfigError("data.source_contrast and data.target must name two contrasts (e.g. t1 and t2)")
    if source == target:
        raise ConfigError(f"data.source_contrast and data.target are both '{source}'; translate between two contrasts")
    if builtin is None:
        return
    name, arg = builtin
    if name != "mni152":
        raise ConfigError(f"data.source={cfg.data.source}: mri_translation needs paired contrasts: the built-in "
                          f"mni152 source or a CSV/JSON manifest (--data pairs.csv)")
    if arg:
        raise ConfigError(f"data.source={cfg.data.source}: choose the contrasts with data.source_contrast and "
                          f"data.target, not '{name}:{arg}'")
    from recon.api import CONTRASTS

    for key, role in (("data.source_contrast", source), ("data.target", target)):
        if role not in CONTRASTS:
            raise ConfigError(f"{key}: unknown contrast '{role}' for mni152; valid: {', '.join(CONTRASTS)}")


def spec(cfg: RunConfig) -> PairSpec:
    """The :class:`PairSpec` of a config (single-channel slices)."""
    noise = cfg.data.rician_noise if cfg.data.source == "mni152" else 0.0
    return pair_spec(cfg, roles(cfg), channels=1, rician_noise=noise)


def load_pairs(cfg: RunConfig, split: str) -> Pairs:
    """``(volume_id, {role: (1, H, W)})`` of ``split`` (cached per process)."""
    return load_split_pairs(spec(cfg), split)


def pad_to(image: Tensor, size: int) -> Tensor:
    """Zero-pad ``(C, H, W)`` symmetrically to at least ``size`` x ``size`` (background is 0)."""
    h, w = image.shape[-2:]
    ph, pw = max(0, size - h), max(0, size - w)
    if not (ph or pw):
        return image
    return F.pad(image, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


def split_pair(channels: int, intensity: Any = None):  # noqa: ANN201 - a closure for RandomPatchDataset
    """``(stack (2C, P, P), rng) -> {"input", "target"}``, intensity-augmenting the input only."""

    def transform(stack: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
        source, target = stack[:channels], stack[channels:]
        if intensity is not None:
            source = intensity(source.contiguous(), rng)
        return {"input": source.contiguous(), "target": target.contiguous()}

    return transform


def train_dataset(cfg: RunConfig, pairs: Pairs) -> Dataset:
    """Random aligned patches: ``{"input": (1, P, P), "target": (1, P, P)}``, item ``i`` a pure
    function of ``(cfg.seed, i)``."""
    d = cfg.data
    src, tgt = roles(cfg)
    size = d.patch_size
    stacks = [pad_to(torch.from_numpy(np.concatenate([images[src], images[tgt]])), size) for _, images in pairs]
    spatial = build_augmentation(AugmentSpec(affine=d.augment_affine, elastic=d.augment_elastic))
    intensity = build_augmentation(AugmentSpec(intensity=d.augment_intensity))
    return RandomPatchDataset(stacks, size, cfg.seed, split_pair(1, intensity), augment=d.augment,
                              augment_fn=spatial)
