"""A training dataset of random patches that is a pure function of (seed, index).

Because sample ``i`` depends only on the seed and ``i``, a resumed run (or a run split
across DDP ranks) sees exactly the same samples as an uninterrupted one, whatever the
number of DataLoader workers. The trainer's ``StepBatchSampler`` hands each rank its slice
of the global sample counter, so no ``DistributedSampler`` is needed for training; the
finite evaluation datasets work with one as they are.

2D images ``(C, H, W)`` give square patches; 3D volumes ``(C, D, H, W)`` give cubes.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor
from torch.utils.data import Dataset

Transform = Callable[[Tensor, torch.Generator], dict[str, Tensor]]
Augment = Callable[[Tensor, torch.Generator], Tensor]


def sample_generator(seed: int, index: int) -> torch.Generator:
    """A torch RNG seeded from (seed, index) only."""
    return torch.Generator().manual_seed((seed * 1_000_003 + index * 7919 + 12345) % (2**63 - 1))


def random_crop_nd(image: Tensor, size: int, rng: torch.Generator, spatial_dims: int = 2) -> Tensor:
    """A ``size``-sided crop of the last ``spatial_dims`` dims of ``image`` at a random position."""
    slices = [slice(None)] * (image.dim() - spatial_dims)
    for extent in image.shape[-spatial_dims:]:
        start = int(torch.randint(0, extent - size + 1, (1,), generator=rng))
        slices.append(slice(start, start + size))
    return image[tuple(slices)]


def random_crop(image: Tensor, size: int, rng: torch.Generator) -> Tensor:
    """A ``size`` x ``size`` crop of a ``(C, H, W)`` image at a random position."""
    return random_crop_nd(image, size, rng, 2)


def random_dihedral(image: Tensor, rng: torch.Generator) -> Tensor:
    """One of the 8 flips/90-degree rotations of a ``(C, H, W)`` image, at random."""
    k = int(torch.randint(0, 8, (1,), generator=rng))
    if k >= 4:
        image = image.flip(-1)
    return torch.rot90(image, k % 4, dims=(-2, -1))


def random_flips(image: Tensor, rng: torch.Generator) -> Tensor:
    """One of the 4 flips of a ``(..., H, W)`` image (none, vertical, horizontal, both), at
    random: the dihedral moves that keep a non-square shape."""
    code = int(torch.randint(0, 4, (1,), generator=rng))
    dims = [d for bit, d in ((1, -2), (2, -1)) if code & bit]
    return image.flip(dims) if dims else image


def area_weights(images: list[Tensor]) -> Tensor:
    """``(N,)`` probabilities proportional to each image's spatial size (pixels or voxels of
    one channel), so every pixel of the training set is equally likely to be sampled."""
    weights = torch.tensor([float(im[0].numel()) for im in images])
    return weights / weights.sum()


def weighted_choice(weights: Tensor, rng: torch.Generator) -> int:
    """An index drawn from the ``(N,)`` probabilities ``weights`` with ``rng``."""
    return int(torch.multinomial(weights, 1, generator=rng))


def random_flips_3d(volume: Tensor, rng: torch.Generator) -> Tensor:
    """Random flips of each axis and a random in-plane 90-degree rotation of ``(C, D, H, W)``
    (the in-plane rotation keeps an anisotropic slice axis in place)."""
    code = int(torch.randint(0, 32, (1,), generator=rng))
    dims = [d for bit, d in zip((1, 2, 4), (-3, -2, -1), strict=True) if code & bit]
    if dims:
        volume = volume.flip(dims)
    return torch.rot90(volume, code >> 3, dims=(-2, -1))


class RandomPatchDataset(Dataset):
    """Infinite-style dataset: item ``i`` is a random patch of a random image, then ``transform``.

    Args:
        images: list of ``(C, H, W)`` (or ``(C, D, H, W)``) tensors, each at least ``patch_size``
            along every spatial dim.
        patch_size: side of the square (cubic) crop.
        seed: the run seed.
        transform: ``(patch, rng) -> dict`` making the sample (e.g. the degradation).
        augment: apply a random flip/rotation to the patch.
        length: nominal length (samplers index beyond it freely).
        augment_fn: an optional further augmentation ``(patch, rng) -> patch``
            (:func:`recon.data.augmentation.build_augmentation`), applied before ``transform``.
    """

    def __init__(self, images: list[Tensor], patch_size: int, seed: int, transform: Transform,
                 augment: bool = True, length: int = 2**31 - 1, augment_fn: Augment | None = None) -> None:
        self.images = images
        self.patch_size = patch_size
        self.seed = seed
        self.transform = transform
        self.augment = augment
        self.length = length
        self.augment_fn = augment_fn
        self.spatial_dims = images[0].dim() - 1
        self.weights = area_weights(images)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = sample_generator(self.seed, index)
        which = weighted_choice(self.weights, rng)
        patch = random_crop_nd(self.images[which], self.patch_size, rng, self.spatial_dims)
        if self.augment:
            patch = random_dihedral(patch, rng) if self.spatial_dims == 2 else random_flips_3d(patch, rng)
        if self.augment_fn is not None:
            patch = self.augment_fn(patch.contiguous(), rng)
        return self.transform(patch.contiguous(), rng)
