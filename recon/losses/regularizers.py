"""Discriminator regularizers: R1 (Mescheder et al. 2018) and the WGAN-GP gradient penalty.

Both are computed in fp32 outside autocast (a gradient penalty under fp16 underflows), and
both return the *unweighted* penalty; the trainer multiplies by the weight and by the lazy
regularization interval (StyleGAN2's trick: apply every N steps, scaled by N).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


def r1_penalty(real_logits: Tensor, real_images: Tensor) -> Tensor:
    """Mean over the batch of ||grad_x D(x)||^2 at real samples.

    Args:
        real_logits: D(real), any shape with batch first, computed from ``real_images``
            which must have ``requires_grad=True``.
        real_images: ``(N, C, H, W)`` (or any ``(N, ...)``) real inputs of D.

    Returns:
        A scalar. The R1 loss is ``gamma / 2 * r1_penalty(...)``.
    """
    (grad,) = torch.autograd.grad(
        outputs=real_logits.float().sum(), inputs=real_images, create_graph=True
    )
    return grad.float().pow(2).flatten(1).sum(1).mean()


def gradient_penalty(
    discriminator: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP: E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates of real and fake.

    Args:
        discriminator: maps ``(N, C, H, W)`` images to logits.
        real, fake: ``(N, C, H, W)``; ``fake`` is detached here.
        generator: RNG for the interpolation weights (reproducible runs).
    """
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device,
                       generator=generator, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    logits = discriminator(mixed)
    (grad,) = torch.autograd.grad(outputs=logits.float().sum(), inputs=mixed, create_graph=True)
    return ((grad.float().flatten(1).norm(2, dim=1) - 1) ** 2).mean()
