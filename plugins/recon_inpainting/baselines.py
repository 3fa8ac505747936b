"""Inpainting baselines and the hole-only error.

- ``biharmonic``: scikit-image's ``inpaint_biharmonic`` (Damelin & Hoang 2018), the classical
  reference: the hole is filled with the smooth biharmonic interpolation of its boundary,
  each RGB channel separately; known pixels are unchanged. It is the pseudo-inverse of core's
  ``Inpainting("biharmonic")`` operator (:func:`recon.physics.biharmonic`).
- ``mean fill``: the hole filled with the per-image, per-channel mean of the known pixels (the
  simplest fill that uses the image; Pathak et al. 2016 fill with the dataset mean). It replaces
  the former ``masked input`` row, the network's input as is: with the default preset's
  ``mask.fill=biharmonic`` that row was the biharmonic baseline again, number for number, and
  with ``mask.fill=zero`` a black hole, which every method beats. Both rows are fills of the
  measurement's known pixels, so they do not change with ``mask.fill``.
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
