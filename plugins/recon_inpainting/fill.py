"""Filling the hole of the network input, and compositing the output.

``mask.fill``:

- ``zero``: the hole is 0 (Pathak et al. 2016 fill with the dataset mean; 0 is the usual choice
  of GAN inpainters).
- ``mean``: the per-image, per-channel mean of the known pixels.
- ``smooth``: a pull-push (image pyramid) interpolation: known pixels are averaged down a
  2x pyramid until the hole disappears, then the coarse values are bilinearly upsampled back
  into the hole level by level (Gortler et al. 1996, *The Lumigraph*, "pull-push"). A smooth
  first guess in a few milliseconds; with ``model.residual`` the generator learns a correction
  to it.
- ``biharmonic``: scikit-image's biharmonic inpainting (the ``biharmonic`` baseline itself:
  :func:`recon_inpainting.baselines.biharmonic`), about 6 ms for a 64x64 RGB patch with a
  32x32 hole on one core, on the CPU. With ``model.residual`` the untrained generator *is* the
  classical baseline, and training can only have to improve on it.

Known pixels are never changed (``torch.where``), whatever the fill.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

FILLS = ("zero", "mean", "smooth", "biharmonic")


def pull_push(image: Tensor, known: Tensor) -> Tensor:
    """Fill ``known == 0`` pixels of ``(N, C, H, W)`` from a pyramid of the known ones.

    ``known`` is ``(N, 1, H, W)`` in {0, 1}. Where an image has no known pixel at all the
    result there is 0.
    """
    h, w = image.shape[-2:]
    if bool(known.min() > 0):
        return image
    if min(h, w) <= 1:
        total = known.sum(dim=(-2, -1), keepdim=True)
        mean = (image * known).sum(dim=(-2, -1), keepdim=True) / total.clamp_min(1e-8)
        return torch.where(known.bool(), image, mean.expand_as(image))
    weight = F.avg_pool2d(known, 2, ceil_mode=True)
    coarse = F.avg_pool2d(image * known, 2, ceil_mode=True) / weight.clamp_min(1e-8)
    coarse = pull_push(coarse, (weight > 0).to(known.dtype))
    up = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    return torch.where(known.bool(), image, up)


def apply_mask(image: Tensor, mask: Tensor, fill: str = "zero") -> Tensor:
    """The network input: ``image`` with the hole filled by ``fill`` (one of :data:`FILLS`).

    Args:
        image: ``(C, H, W)`` or ``(N, C, H, W)``.
        mask: ``(1, H, W)`` or ``(N, 1, H, W)``, 1 in the hole.

    Returns:
        A tensor like ``image``, equal to it outside the hole.
    """
    hole = mask.bool().expand_as(image)
    if fill == "zero":
        return torch.where(hole, torch.zeros_like(image), image)
    known = 1 - mask.to(image.dtype)
    if fill == "mean":
        total = known.sum(dim=(-2, -1), keepdim=True).clamp_min(1)
        mean = (image * known).sum(dim=(-2, -1), keepdim=True) / total
        return torch.where(hole, mean.expand_as(image), image)
    if fill in ("smooth", "biharmonic"):
        from recon_inpainting.baselines import biharmonic

        batched = image.dim() == 4
        images, masks = (image, mask) if batched else (image[None], mask[None])
        filled = pull_push(images, 1 - masks.to(image.dtype)) if fill == "smooth" else biharmonic(images, masks)
        return filled if batched else filled[0]
    raise ValueError(f"unknown fill '{fill}' ({', '.join(FILLS)})")


def composite(generated: Tensor, mask: Tensor, known: Tensor) -> Tensor:
    """``mask * generated + (1 - mask) * known``: generated pixels in the hole only.

    Done with ``torch.where`` so known pixels are copied bit for bit.
    """
    return torch.where(mask.bool(), generated.to(known.dtype), known)
