"""Inpainting samples: a clean patch, a hole mask, and the masked input.

Items are ``{"input": (C, P, P), "mask": (1, P, P), "target": (C, P, P)}`` (evaluation items
add ``"volume"``). Training item ``i`` is a pure function of ``(seed, i)`` (a random patch of
a random training image, then a random mask); evaluation item ``k`` is patch ``k % n`` of
image ``k // n`` (``n = data.eval_patches``) with position and mask drawn from
``(EVAL_SEED, k)``, so every run is scored on the same holes.

Flat patches (standard deviation below ``data.min_patch_std``, e.g. the white background of
``colorwheel`` or the black surround of ``retina``) are redrawn, up to ``MAX_TRIES`` times:
filling a constant region is trivial for every method and teaches nothing.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import area_weights, random_crop, random_dihedral, sample_generator, weighted_choice
from recon_inpainting.masks import MaskConfig, operator

EVAL_SEED = 0  # evaluation holes do not depend on the run's seed
MAX_TRIES = 10  # crops tried per item before a flat patch is accepted

Sample = Callable[[Tensor, torch.Generator], dict[str, Tensor]]


def make_sample(mask_cfg: MaskConfig) -> Sample:
    """``(patch (C, P, P), rng) -> {"input", "mask", "target"}`` with a hole of ``mask_cfg``:
    the forward operator (:func:`recon_inpainting.masks.operator`) hides it, its pseudo-inverse
    fills it with ``mask_cfg.fill``: ``input = A^+ A patch``."""
    op = operator(mask_cfg)

    def sample(patch: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
        params = op.sample(patch.shape, rng)
        return {"input": op.pseudo_inverse(op(patch, params), params), "mask": params.mask, "target": patch}
    return sample


def textured_crop(image: Tensor, size: int, rng: torch.Generator, min_std: float) -> Tensor:
    """A random ``size`` crop of ``(C, H, W)`` whose std reaches ``min_std`` (the last try otherwise)."""
    for _ in range(MAX_TRIES):
        patch = random_crop(image, size, rng)
        if min_std <= 0 or float(patch.std()) >= min_std:
            break
    return patch.contiguous()


class InpaintPatchDataset(Dataset):
    """Training items: a random (non-flat) patch of a random image, augmented, with a random hole.

    Args:
        images: ``(C, H, W)`` tensors, each at least ``patch_size`` on both sides.
        patch_size, seed, min_std, augment: see :class:`~recon_inpainting.config.InpaintDataConfig`.
        sample: makes the item from the patch (:func:`make_sample`).
    """

    def __init__(self, images: list[Tensor], patch_size: int, seed: int, sample: Sample,
                 min_std: float = 0.0, augment: bool = True, length: int = 2**31 - 1) -> None:
        self.images, self.patch_size, self.seed, self.sample = images, patch_size, seed, sample
        self.min_std, self.augment, self.length = min_std, augment, length
        self.weights = area_weights(images)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = sample_generator(self.seed, index)
        image = self.images[weighted_choice(self.weights, rng)]
        patch = textured_crop(image, self.patch_size, rng, self.min_std)
        if self.augment:
            patch = random_dihedral(patch, rng).contiguous()
        return self.sample(patch, rng)


class InpaintEvalDataset(Dataset):
    """``per_image`` fixed (non-flat) patches, with fixed holes, of each evaluation image."""

    def __init__(self, images: tuple[tuple[int, np.ndarray], ...], patch_size: int, per_image: int,
                 mask_cfg: MaskConfig, min_std: float = 0.0) -> None:
        self.images, self.patch_size, self.per_image = images, patch_size, per_image
        self.sample, self.min_std = make_sample(mask_cfg), min_std

    def __len__(self) -> int:
        return len(self.images) * self.per_image

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        volume, array = self.images[index // self.per_image]
        rng = sample_generator(EVAL_SEED, index)
        patch = textured_crop(torch.from_numpy(array), self.patch_size, rng, self.min_std)
        item = self.sample(patch, rng)
        item["volume"] = torch.tensor(volume)
        return item
