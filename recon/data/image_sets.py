"""Datasets of an image collection as it is, for unconditional tasks (nothing is measured).

* :class:`ImageSamples` (training): item ``i`` is a pure function of ``(seed, i)``: a uniformly
  drawn image of the set with the dataset augmentation (``none``, ``xflip``, or the 8
  ``dihedral`` flips/rotations), ``{"target": (C, H, W)}``;
* :class:`ImageList` (evaluation): every image once, ``{"target": (C, H, W), "volume": index}``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.data.patches import random_dihedral, sample_generator

__all__ = ["AUGMENTS", "ImageList", "ImageSamples", "augment_image"]

#: the dataset augmentations of :class:`ImageSamples`
AUGMENTS = ("none", "xflip", "dihedral")


def augment_image(image: Tensor, mode: str, rng: torch.Generator) -> Tensor:
    """Dataset augmentation ``mode`` (:data:`AUGMENTS`) of a ``(C, H, W)`` image, drawn from ``rng``."""
    if mode == "xflip":
        return image.flip(-1) if int(torch.randint(0, 2, (1,), generator=rng)) else image
    if mode == "dihedral":
        return random_dihedral(image, rng)
    return image


class ImageSamples(Dataset):
    """Infinite-style training set: item ``i`` depends only on ``(seed, i)``.

    Args:
        images: ``(M, C, H, W)`` in [0, 1].
        seed: the run seed.
        augment: one of :data:`AUGMENTS`.
    """

    def __init__(self, images: Tensor, seed: int, augment: str = "none", length: int = 2**31 - 1) -> None:
        self.images, self.seed, self.augment, self.length = images, seed, augment, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = sample_generator(self.seed, index)
        which = int(torch.randint(0, self.images.shape[0], (1,), generator=rng))
        return {"target": augment_image(self.images[which], self.augment, rng).contiguous()}


class ImageList(Dataset):
    """The images of an evaluation split: ``{"target": (C, H, W), "volume": index}``."""

    def __init__(self, images: Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"target": self.images[index], "volume": torch.tensor(index)}
