"""Inpainting baselines and the hole-only error.

- ``biharmonic``: scikit-image's ``inpaint_biharmonic`` (Damelin & Hoang 2018), the classical
  reference: the hole is filled with the smooth biharmonic interpolation of its boundary,
  each RGB channel separately (``channel_axis``); known pixels are unchanged.
- ``masked input``: the network's input itself (the hole left at its fill value).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def biharmonic(image: Tensor, mask: Tensor) -> Tensor:
    """Biharmonic inpainting of a batch.

    Args:
        image: ``(N, C, H, W)`` with C in {1, 3}; values in the hole are ignored.
        mask: ``(N, 1, H, W)``, 1 in the hole.

    Returns:
        ``(N, C, H, W)`` on ``image``'s device and dtype.
    """
    from skimage.restoration import inpaint_biharmonic

    images = image.detach().double().cpu().numpy()
    holes = mask.detach().cpu().numpy()[:, 0] > 0.5
    out = np.empty_like(images)
    for i, (img, hole) in enumerate(zip(images, holes)):
        if not hole.any():
            out[i] = img
        elif img.shape[0] == 1:
            out[i, 0] = inpaint_biharmonic(img[0], hole)
        else:
            out[i] = inpaint_biharmonic(img.transpose(1, 2, 0), hole, channel_axis=-1).transpose(2, 0, 1)
    return torch.from_numpy(out).to(device=image.device, dtype=image.dtype)


def l1_hole(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-image mean absolute error over the hole pixels and channels: ``(N,)``.

    ``sum(|pred - target| * mask) / (C * sum(mask))``; an image without a hole scores 0.
    """
    diff = (pred.float() - target.float()).abs() * mask.float()
    area = mask.float().sum(dim=(1, 2, 3)) * pred.shape[1]
    return diff.sum(dim=(1, 2, 3)) / area.clamp_min(1)
