"""A training dataset of random patches that is a pure function of (seed, index).

Because sample ``i`` depends only on the seed and ``i``, a resumed run (or a run split
across DDP ranks) sees exactly the same samples as an uninterrupted one, whatever the
number of DataLoader workers. The trainer's ``StepBatchSampler`` hands each rank its slice
of the global sample counter, so no ``DistributedSampler`` is needed for training; the
finite evaluation datasets work with one as they are.

2D images ``(C, H, W)`` give square patches; 3D volumes ``(C, D, H, W)`` give cubes.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.errors import DataError

Transform = Callable[[Tensor, torch.Generator], dict[str, Tensor]]
Augment = Callable[[Tensor, torch.Generator], Tensor]


def sample_generator(seed: int, index: int) -> torch.Generator:
    """A torch RNG seeded from (seed, index) only."""
    return torch.Generator().manual_seed((seed * 1_000_003 + index * 7919 + 12345) % (2**63 - 1))


def random_crop_nd(image: Tensor, size: int | Sequence[int], rng: torch.Generator, spatial_dims: int = 2) -> Tensor:
    """A crop of the last ``spatial_dims`` dims of ``image`` at a random position: ``size`` on
    every dim, or one size per dim (0: the whole extent, still drawn so the stream is the same)."""
    sizes = [size] * spatial_dims if isinstance(size, int) else list(size)
    slices = [slice(None)] * (image.dim() - spatial_dims)
    for extent, wanted in zip(image.shape[-spatial_dims:], sizes, strict=True):
        kept = wanted or extent
        start = int(torch.randint(0, extent - kept + 1, (1,), generator=rng))
        slices.append(slice(start, start + kept))
    return image[tuple(slices)]


def check_patches_fit(images: Sequence[Any], size: int | Sequence[int], what: str = "training image",
                      spatial_dims: int = 2) -> None:
    """Refuse, with one ``DataError`` line, images (``(C, *spatial)`` tensors or arrays) smaller
    than one ``size`` patch along a spatial dim, and, where a dim of ``size`` is 0 (the whole
    extent), images whose extents along it differ (their patches would not stack in a batch)."""
    sizes = [size] * spatial_dims if isinstance(size, int) else list(size)
    extents = [tuple(int(e) for e in image.shape[-spatial_dims:]) for image in images]
    small = [e for e in extents if any(want and have < want for have, want in zip(e, sizes, strict=True))]
    if small:
        wanted = "x".join(str(want or "whole") for want in sizes)
        raise DataError(f"{len(small)} {what}(s) are smaller than one patch ({'x'.join(map(str, small[0]))} < "
                        f"{wanted}); lower data.patch_size")
    shapes = sorted({tuple(have if not want else want for have, want in zip(e, sizes, strict=True)) for e in extents})
    if len(shapes) > 1:
        raise DataError(f"{what}s differ in size ({len(shapes)} shapes, e.g. {shapes[0]} and {shapes[1]}); set "
                        "data.patch_size to train on patches of one size")


#: crops tried per item before a flat patch is accepted (``min_std``)
MAX_TRIES = 10


def textured_crop(image: Tensor, size: int | Sequence[int], rng: torch.Generator, min_std: float = 0.0,
                  spatial_dims: int = 2) -> Tensor:
    """A random ``size`` crop (:func:`random_crop_nd`) whose standard deviation reaches
    ``min_std``, trying up to :data:`MAX_TRIES` positions (the last one is kept otherwise);
    ``min_std <= 0``: the first crop."""
    for _ in range(MAX_TRIES if min_std > 0 else 1):
        patch = random_crop_nd(image, size, rng, spatial_dims)
        if min_std <= 0 or float(patch.std()) >= min_std:
            break
    return patch.contiguous()


def center_crop(image: Tensor, size: int, multiple: int = 1) -> Tensor:
    """The centre of ``(C, *spatial)`` cut to ``min(size, extent)`` per spatial dim, rounded down
    to a multiple of ``multiple`` (e.g. an SR scale); ``size=0`` keeps the image."""
    if not size:
        return image
    slices = [slice(None)]
    for extent in image.shape[1:]:
        kept = min(size, extent) // multiple * multiple
        slices.append(slice((extent - kept) // 2, (extent - kept) // 2 + kept))
    return image[tuple(slices)].contiguous()


def random_flip_rotate(image: Tensor, rng: torch.Generator) -> Tensor:
    """One of the 8 flips / 90-degree rotations of a square ``(C, H, W)``; for a non-square one,
    one of the 4 flips that keep its shape (so whole slices of one size still stack)."""
    return random_dihedral(image, rng) if image.shape[-1] == image.shape[-2] else random_flips(image, rng)


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
            along every spatial dim (else ``DataError``, :func:`check_patches_fit`).
        patch_size: side of the square (cubic) crop, or one size per spatial dim (0: the whole
            extent; the images must then share it for batches to stack).
        seed: the run seed.
        transform: ``(patch, rng) -> dict`` making the sample (e.g. the degradation).
        augment: apply a random flip/rotation to the patch (``"flips"``: flips only, e.g. to keep
            the phase-encode direction of k-space along one axis).
        length: nominal length (samplers index beyond it freely).
        augment_fn: an optional further augmentation ``(patch, rng) -> patch``
            (:func:`recon.data.augmentation.build_augmentation`), applied before ``transform``.
        min_std: redraw patches whose standard deviation is below this (flat background:
            filling or sharpening it teaches nothing), up to :data:`MAX_TRIES` crops.
    """

    def __init__(self, images: list[Tensor], patch_size: int | Sequence[int], seed: int, transform: Transform,
                 augment: bool | str = True, length: int = 2**31 - 1, augment_fn: Augment | None = None,
                 min_std: float = 0.0) -> None:
        self.images = images
        self.patch_size = patch_size
        self.seed = seed
        self.transform = transform
        self.augment = augment
        self.length = length
        self.augment_fn = augment_fn
        self.min_std = min_std
        self.spatial_dims = images[0].dim() - 1
        check_patches_fit(images, patch_size, spatial_dims=self.spatial_dims)
        self.weights = area_weights(images)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = sample_generator(self.seed, index)
        which = weighted_choice(self.weights, rng)
        patch = textured_crop(self.images[which], self.patch_size, rng, self.min_std, self.spatial_dims)
        if self.augment == "flips":
            patch = random_flips(patch, rng)
        elif self.augment:
            patch = random_dihedral(patch, rng) if self.spatial_dims == 2 else random_flips_3d(patch, rng)
        if self.augment_fn is not None:
            patch = self.augment_fn(patch.contiguous(), rng)
        return self.transform(patch.contiguous(), rng)
