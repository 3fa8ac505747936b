"""Unpaired training images of ``mri_translation_unpaired``: two domains that share no pair.

- ``data.source=mni152`` or a pairs manifest (``--data pairs.csv``): the training split of the
  paired loader (:func:`recon_translation.data.load_pairs`, the same slab / subject split as
  ``mri_translation``) is cut in two disjoint parts. With several training volumes the first
  half of them gives domain A's images (``data.source_contrast``) and the second half domain
  B's (``data.target``); with one volume (the built-in brain) the slices of its training slab
  are cut the same way, ``data.domain_gap`` slices left out between the halves. No slice
  position therefore appears in both domains: no training pair is ever aligned.
- ``data.domain_a`` / ``data.domain_b``: two folders (or files) of the user's own images, each
  read whole (every volume, every foreground slice) by core's 2D loader.

Training item ``i`` is a pure function of ``(seed, i)``: an A patch drawn as item ``2i`` and a B
patch drawn as item ``2i + 1`` of core's random-patch dataset (independent crops, flips and
warps; intensity augmentation on A only, the generator's input).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import AugmentSpec, ConfigError, DataError, RandomPatchDataset, build_augmentation
from recon_translation import data as pairs

#: ``(volume_id, image (1, H, W), position)``: position = order along the slab (one volume) or volume id
Images = list[tuple[int, np.ndarray, int]]


def check_folders(cfg: RunConfig) -> None:
    """Refuse one domain folder without the other, equal folders and missing paths (one line)."""
    a, b = cfg.data.domain_a.strip(), cfg.data.domain_b.strip()
    if bool(a) != bool(b):
        given, missing = ("data.domain_a", "data.domain_b") if a else ("data.domain_b", "data.domain_a")
        raise ConfigError(f"{given} is set but {missing} is not: give a folder of images for each domain")
    if not a:
        return
    for key, value in (("data.domain_a", a), ("data.domain_b", b)):
        if not Path(value).expanduser().exists():
            raise DataError(f"{key}={value}: no such file or directory")
    if Path(a).expanduser().resolve() == Path(b).expanduser().resolve():
        raise ConfigError(f"data.domain_a and data.domain_b are the same path ({a}); give one folder per domain")


def _halves(n: int, gap: int) -> tuple[range, range]:
    """Positions ``0 .. n-1`` cut into a first and a second half, ``gap`` positions apart."""
    keep = max(0, n - gap)
    first = keep // 2
    return range(0, first), range(n - (keep - first), n)


def split_domains(cfg: RunConfig) -> tuple[Images, Images]:
    """``(A images, B images)`` for training, from disjoint parts of the paired training split.

    Raises:
        DataError: a training split too small to give both domains an image.
    """
    source, target = pairs.roles(cfg)
    train = pairs.load_pairs(cfg, "train")
    volumes = list(dict.fromkeys(vid for vid, _ in train))
    if len(volumes) >= 2:  # by volume: the first half of the training subjects is A, the rest B
        half = len(volumes) // 2
        set_a = set(volumes[:half])
        a = [(vid, im[source], vid) for vid, im in train if vid in set_a]
        b = [(vid, im[target], vid) for vid, im in train if vid not in set_a]
    else:  # one volume: by slab along the slice axis
        first, second = _halves(len(train), cfg.data.domain_gap)
        a = [(train[k][0], train[k][1][source], k) for k in first]
        b = [(train[k][0], train[k][1][target], k) for k in second]
    if not a or not b:
        raise DataError(f"{cfg.data.source}: the training split ({len(train)} slices) is too small to cut into two "
                        f"disjoint domains with data.domain_gap={cfg.data.domain_gap}")
    return a, b


def folder_images(cfg: RunConfig, folder: str) -> Images:
    """Every foreground slice (or 2D image) of a folder, read with the run's data options."""
    from recon.api import image_spec, load_split_images

    spec = dataclasses.replace(image_spec(cfg, channels=1), source=str(Path(folder).expanduser()),
                               holdout=False, role="")
    return [(vid, im, vid) for vid, im in load_split_images(spec, "train")]


def training_domains(cfg: RunConfig) -> tuple[Images, Images]:
    """The A and B training images of a run: its domain folders, or the split paired data."""
    check_folders(cfg)
    if cfg.data.domain_a.strip():
        return folder_images(cfg, cfg.data.domain_a), folder_images(cfg, cfg.data.domain_b)
    return split_domains(cfg)


class UnpairedPatches(Dataset):
    """Item ``i``: ``{"input": (1, P, P) A patch, "domain_b": (1, P, P) B patch}``, independent.

    Args:
        domain_a, domain_b: core random-patch datasets of each domain (same seed); item ``i``
            takes their items ``2i`` and ``2i + 1``, so it is a pure function of ``(seed, i)``.
    """

    def __init__(self, domain_a: RandomPatchDataset, domain_b: RandomPatchDataset) -> None:
        self.domain_a, self.domain_b = domain_a, domain_b

    def __len__(self) -> int:
        return 2**30

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"input": self.domain_a[2 * index]["image"], "domain_b": self.domain_b[2 * index + 1]["image"]}


def _as_image(intensity=None):  # noqa: ANN001, ANN202 - a closure for RandomPatchDataset
    def make(patch: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
        if intensity is not None:
            patch = intensity(patch.contiguous(), rng)
        return {"image": patch.contiguous()}
    return make


def train_dataset(cfg: RunConfig, domain_a: Images, domain_b: Images) -> UnpairedPatches:
    """Random unaligned patches of both domains (``data.patch_size``; smaller slices zero-padded)."""
    d = cfg.data
    size = d.patch_size
    spatial = build_augmentation(AugmentSpec(affine=d.augment_affine, elastic=d.augment_elastic))
    intensity = build_augmentation(AugmentSpec(intensity=d.augment_intensity))

    def patches(images: Images, make) -> RandomPatchDataset:  # noqa: ANN001
        stacks = [pairs.pad_to(torch.from_numpy(np.ascontiguousarray(im)), size) for _, im, _ in images]
        return RandomPatchDataset(stacks, size, cfg.seed, make, augment=d.augment, augment_fn=spatial)

    return UnpairedPatches(patches(domain_a, _as_image(intensity)), patches(domain_b, _as_image()))
