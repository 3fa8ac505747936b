"""The LDL artifact loss (Liang, Zeng & Zhang, *Details or Artifacts: A Locally Discriminative
Learning Approach to Realistic Image Super-Resolution*, CVPR 2022).

Adversarial training adds detail and, with it, artifacts: texture where the target has none,
ringing at edges. LDL tells them apart per pixel. Where the residual ``|target - output|``
varies strongly in a small window the output is likely an artifact; where the current
generator is no better than its exponential moving average (EMA, more stable and with fewer
artifacts) the pixel is unstable rather than detail. The loss is an L1 term weighted by

    M = var(r)^(1/5) * localvar_7x7(r),   set to 0 where r < r_ema,

with ``r = sum_c |target - output|`` and ``r_ema`` the same residual of the EMA generator's
output; ``var(r)`` is over each image (an image-level scale), ``localvar`` the unbiased
variance over a ``window`` x ``window`` neighbourhood (reflection padding). ``M`` is a fixed
weighting (no gradient flows through it). The paper pairs it with L1 1e-2, perceptual 1 and
adversarial 5e-3; with recon's L1 weight of 1 the equivalent artifact weight is ~100.

Shapes: images ``(N, C, H, W)``; the map ``(N, 1, H, W)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def local_variance(x: Tensor, window: int = 7) -> Tensor:
    """Unbiased variance of ``x`` ``(N, 1, H, W)`` over ``window`` x ``window`` neighbourhoods
    (reflection padding), same shape."""
    pad = window // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    mean = F.avg_pool2d(padded, window, stride=1)
    mean_sq = F.avg_pool2d(padded * padded, window, stride=1)
    n = window * window
    return (mean_sq - mean * mean).clamp_min(0) * (n / (n - 1))


@torch.no_grad()
def artifact_map(target: Tensor, output: Tensor, ema_output: Tensor, window: int = 7) -> Tensor:
    """The refined artifact map ``M`` ``(N, 1, H, W)`` of LDL (see the module docstring)."""
    residual = (target - output).abs().sum(1, keepdim=True).float()
    residual_ema = (target - ema_output).abs().sum(1, keepdim=True).float()
    image_scale = residual.flatten(1).var(dim=1).clamp_min(0).pow(0.2).view(-1, 1, 1, 1)
    weight = image_scale * local_variance(residual, window)
    return weight.masked_fill(residual < residual_ema, 0.0)


def artifact_loss(output: Tensor, target: Tensor, ema_output: Tensor, window: int = 7) -> Tensor:
    """``mean |M * (output - target)|`` over all elements; differentiable in ``output``."""
    weight = artifact_map(target.detach(), output.detach(), ema_output.detach(), window)
    return (weight * (output - target)).abs().mean()
