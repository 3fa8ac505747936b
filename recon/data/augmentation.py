"""Spatial and intensity augmentation of training patches (variety for single-subject sources).

Every random parameter is drawn from the sample's own RNG, so a training sample stays a pure
function of (seed, index). Each kind is applied with its probability:

- ``affine``: rotation up to 15 degrees (in-plane for 2D, about every axis for 3D), scaling
  by up to 10 %, translation up to 5 % of the side, reflection padding -- kornia's
  ``warp_affine`` / ``warp_affine3d``.
- ``elastic``: 2D: kornia's ``elastic_transform2d`` (uniform noise smoothed by a Gaussian of
  sigma 8 px, about 1.7 px mean displacement); 3D: MONAI's ``Rand3DElastic`` (sigma 5-7,
  magnitude 50-100; kornia has no 3D elastic warp; slow: ~0.2 s per 32^3 cube on one core).
- ``intensity``: MONAI's ``RandAdjustContrast`` (gamma 0.7-1.5) then ``RandScaleIntensity``
  (+/-10 %), clipped to [0, 1].

kornia rather than MONAI for the 2D/affine warps: MONAI's ``RandAffine`` spends ~9 ms per
64x64 patch in MetaTensor bookkeeping, kornia ~1 ms. These run on the CPU in the DataLoader
workers; ADA-style differentiable augmentation of D's inputs is separate (:mod:`recon.augment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, cast

import torch
from torch import Tensor

if TYPE_CHECKING:
    import numpy as np

Augment = Callable[[Tensor, torch.Generator], Tensor]


@dataclass(frozen=True)
class AugmentSpec:
    """Probabilities of each augmentation kind (0 disables it)."""

    affine: float = 0.0
    elastic: float = 0.0
    intensity: float = 0.0

    @property
    def enabled(self) -> bool:
        return max(self.affine, self.elastic, self.intensity) > 0


def _uniform(rng: torch.Generator, low: float, high: float, n: int = 1) -> Tensor:
    return low + (high - low) * torch.rand(n, generator=rng)


def _seed(rng: torch.Generator) -> int:
    return int(torch.randint(0, 2**31 - 1, (1,), generator=rng))


def random_affine(patch: Tensor, rng: torch.Generator) -> Tensor:
    """Random rotation/scale/translation of a ``(C, H, W)`` or ``(C, D, H, W)`` patch."""
    from kornia.geometry.transform import get_projective_transform, get_rotation_matrix2d, warp_affine, warp_affine3d

    dims = patch.dim() - 1
    size = torch.tensor(patch.shape[1:], dtype=torch.float32)
    center = ((size - 1) / 2).flip(0)[None]  # kornia wants (x, y[, z])
    shift = _uniform(rng, -0.05, 0.05, dims) * size.flip(0)
    if dims == 2:
        matrix = get_rotation_matrix2d(center, _uniform(rng, -15, 15), _uniform(rng, 0.9, 1.1).expand(1, 2))
        matrix[..., 2] += shift
        return warp_affine(patch[None], matrix, cast(tuple[int, int], tuple(patch.shape[1:])),
                           padding_mode="reflection", align_corners=False)[0]
    matrix = get_projective_transform(center, _uniform(rng, -15, 15, 3)[None], _uniform(rng, 0.9, 1.1, 3)[None])
    matrix[..., 3] += shift
    return warp_affine3d(patch[None], matrix, cast(tuple[int, int, int], tuple(patch.shape[1:])),
                         padding_mode="reflection", align_corners=False)[0]


def random_elastic(patch: Tensor, rng: torch.Generator) -> Tensor:
    """A smooth random deformation of a ``(C, H, W)`` (kornia) or ``(C, D, H, W)`` (MONAI) patch."""
    if patch.dim() == 3:
        from kornia.geometry.transform import elastic_transform2d

        noise = torch.rand((1, 2, *patch.shape[1:]), generator=rng) * 2 - 1
        alpha = 128.0 / max(patch.shape[1:])  # ~1.7 px mean displacement whatever the size
        return elastic_transform2d(patch[None], noise, (33, 33), (8.0, 8.0), (alpha, alpha),
                                   padding_mode="reflection")[0]
    from monai.transforms import Rand3DElastic

    transform = Rand3DElastic(sigma_range=(5, 7), magnitude_range=(50, 100), prob=1.0, padding_mode="reflection")
    transform.set_random_state(seed=_seed(rng))
    out = transform(patch)
    return out.as_tensor() if hasattr(out, "as_tensor") else torch.as_tensor(out)


def random_intensity(patch: Tensor, rng: torch.Generator) -> Tensor:
    """Random gamma then a random +/-10 % scaling, clipped to [0, 1] (MONAI transforms)."""
    from monai.transforms import RandAdjustContrast, RandScaleIntensity

    out: Tensor | np.ndarray = patch.clamp(0, 1)  # MONAI returns NdarrayOrTensor (here a MetaTensor)
    for transform in (RandAdjustContrast(prob=1.0, gamma=(0.7, 1.5)), RandScaleIntensity(factors=0.1, prob=1.0)):
        transform.set_random_state(seed=_seed(rng))
        out = transform(out)
    out = out.as_tensor() if hasattr(out, "as_tensor") else torch.as_tensor(out)
    return out.clamp(0, 1)


def build_augmentation(spec: AugmentSpec) -> Augment | None:
    """``fn(patch (C, *spatial), rng) -> patch`` applying ``spec``; ``None`` when nothing is enabled."""
    if not spec.enabled:
        return None
    steps = [(p, fn) for p, fn in ((spec.affine, random_affine), (spec.elastic, random_elastic),
                                   (spec.intensity, random_intensity)) if p > 0]

    def augment(patch: Tensor, rng: torch.Generator) -> Tensor:
        for probability, fn in steps:
            if float(torch.rand(1, generator=rng)) < probability:
                patch = fn(patch, rng)
        return patch.to(torch.float32).contiguous()

    return augment
