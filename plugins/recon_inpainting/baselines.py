"""Inpainting baselines and the hole-only error.

- ``biharmonic``: scikit-image's ``inpaint_biharmonic`` (Damelin & Hoang 2018), the classical
  reference: the hole is filled with the smooth biharmonic interpolation of its boundary,
  each RGB channel separately; known pixels are unchanged. It is the pseudo-inverse of core's
  ``Inpainting("biharmonic")`` operator (:func:`recon.physics.biharmonic`).
- ``masked input``: the network's input itself (the hole left at its fill value).
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["l1_hole"]


def l1_hole(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-image mean absolute error over the hole pixels and channels: ``(N,)``.

    ``sum(|pred - target| * mask) / (C * sum(mask))``; an image without a hole scores 0.
    """
    diff = (pred.float() - target.float()).abs() * mask.float()
    area = mask.float().sum(dim=(1, 2, 3)) * pred.shape[1]
    return diff.sum(dim=(1, 2, 3)) / area.clamp_min(1)
