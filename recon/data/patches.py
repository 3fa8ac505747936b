"""A training dataset of random patches that is a pure function of (seed, index).

Because sample ``i`` depends only on the seed and ``i``, a resumed run (or a run split
across DDP ranks) sees exactly the same samples as an uninterrupted one, whatever the
number of DataLoader workers.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor
from torch.utils.data import Dataset

Transform = Callable[[Tensor, torch.Generator], dict[str, Tensor]]


def sample_generator(seed: int, index: int) -> torch.Generator:
    """A torch RNG seeded from (seed, index) only."""
    return torch.Generator().manual_seed((seed * 1_000_003 + index * 7919 + 12345) % (2**63 - 1))


def random_crop(image: Tensor, size: int, rng: torch.Generator) -> Tensor:
    """A ``size`` x ``size`` crop of a ``(C, H, W)`` image at a random position."""
    h, w = image.shape[-2:]
    top = int(torch.randint(0, h - size + 1, (1,), generator=rng))
    left = int(torch.randint(0, w - size + 1, (1,), generator=rng))
    return image[..., top:top + size, left:left + size]


def random_dihedral(image: Tensor, rng: torch.Generator) -> Tensor:
    """One of the 8 flips/90-degree rotations of a ``(C, H, W)`` image, at random."""
    k = int(torch.randint(0, 8, (1,), generator=rng))
    if k >= 4:
        image = image.flip(-1)
    return torch.rot90(image, k % 4, dims=(-2, -1))


class RandomPatchDataset(Dataset):
    """Infinite-style dataset: item ``i`` is a random patch of a random image, then ``transform``.

    Args:
        images: list of ``(C, H, W)`` tensors, each at least ``patch_size`` on both sides.
        patch_size: side of the square crop.
        seed: the run seed.
        transform: ``(patch (C, P, P), rng) -> dict`` making the sample (e.g. the degradation).
        augment: apply a random flip/rotation to the patch.
        length: nominal length (samplers index beyond it freely).
    """

    def __init__(self, images: list[Tensor], patch_size: int, seed: int, transform: Transform,
                 augment: bool = True, length: int = 2**31 - 1) -> None:
        self.images = images
        self.patch_size = patch_size
        self.seed = seed
        self.transform = transform
        self.augment = augment
        self.length = length
        weights = torch.tensor([float(im.shape[-2] * im.shape[-1]) for im in images])
        self.weights = weights / weights.sum()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = sample_generator(self.seed, index)
        which = int(torch.multinomial(self.weights, 1, generator=rng))
        patch = random_crop(self.images[which], self.patch_size, rng)
        if self.augment:
            patch = random_dihedral(patch, rng)
        return self.transform(patch.contiguous(), rng)
