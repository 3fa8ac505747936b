"""``l1_hole``, the metric that sees what whole-image metrics dilute: inpainting error inside the hole.

PSNR/SSIM/NMSE (and ST-LPIPS, patch KID) come from core's paired evaluation in the ``sr``
convention with no border crop; whole-image metrics are diluted by the known pixels, which
every method copies exactly. ``l1_hole`` is registered as a metric that reads the batch's
``mask`` (``register_metrics(..., inputs=("mask",))``) and is listed in the task's
``Parts.metrics``, so core scores it in the same pass, for the model and every baseline.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from recon_inpainting.baselines import l1_hole

__all__ = ["hole_metric"]


def hole_metric(convention: str = "sr", scale: int = 0) -> Callable[..., float]:
    """The registered metric's factory: ``metric(target, prediction, mask) -> float`` on one
    image ``(C, H, W)`` with its hole mask ``(H, W)`` (1 = hole)."""

    def metric(target: np.ndarray, prediction: np.ndarray, mask: Any) -> float:
        t, p = torch.from_numpy(np.array(target))[None], torch.from_numpy(np.array(prediction))[None]
        m = torch.from_numpy(np.array(mask, dtype=np.float32)).reshape(1, 1, *t.shape[-2:])
        return float(l1_hole(p, t, m)[0])
    return metric
