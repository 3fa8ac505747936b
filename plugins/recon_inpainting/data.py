"""Inpainting samples: a clean patch, a hole mask, and the masked input.

Items are ``{"input": (C, P, P), "mask": (1, P, P), "target": (C, P, P)}`` (evaluation items
add ``"volume"``), made by :func:`make_sample` inside core's datasets: training item ``i`` is a
pure function of ``(seed, i)`` (a random patch of a random training image, then a random
mask, :class:`recon.api.RandomPatchDataset`); evaluation item ``k`` is patch ``k % n`` of
image ``k // n`` (``n = data.eval_patches``) with position and mask drawn from ``(0, k)``
(:class:`recon.api.MeasurementPatches`), so every run is scored on the same holes.

Flat patches (standard deviation below ``data.min_patch_std``, e.g. the white background of
``colorwheel`` or the black surround of ``retina``) are redrawn: filling a constant region is
trivial for every method and teaches nothing.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from recon_inpainting.masks import MaskConfig, operator

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
