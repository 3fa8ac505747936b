"""Adversarial losses as pure functions of discriminator logits.

Every loss takes raw logits (any shape, e.g. ``(N, 1)`` or a PatchGAN map ``(N, 1, h, w)``)
and returns a scalar. ``d_loss(real, fake)`` is minimised by the discriminator and
``g_loss(fake, real)`` by the generator (``real`` is only used by relativistic losses; pass
it detached). The formulas, with sigma the logistic function and softplus(x) = log(1 + e^x):

=============  ======================================  =============================
name           discriminator                           generator
=============  ======================================  =============================
``ns``         E[softplus(-r)] + E[softplus(f)]        E[softplus(-f)]
``lsgan``      1/2 E[(r - 1)^2] + 1/2 E[f^2]           1/2 E[(f - 1)^2]
``hinge``      E[relu(1 - r)] + E[relu(1 + f)]         -E[f]
``wgan-gp``    E[f] - E[r]   (+ gradient penalty)      -E[f]
``ragan``      1/2 (BCE(r - E f, 1) + BCE(f - E r, 0)) 1/2 (BCE(r - E f, 0) + BCE(f - E r, 1))
=============  ======================================  =============================

``ns`` is the non-saturating loss of Goodfellow et al. (2014); ``lsgan`` Mao et al. (2017);
``hinge`` Lim & Ye (2017); ``wgan-gp`` Gulrajani et al. (2017); ``ragan`` the relativistic
average GAN of Jolicoeur-Martineau (2018) as used by ESRGAN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def _bce_logits(logits: Tensor, target: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def ns_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def ns_g_loss(fake: Tensor, real: Tensor | None = None) -> Tensor:
    return F.softplus(-fake).mean()


def lsgan_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean()


def lsgan_g_loss(fake: Tensor, real: Tensor | None = None) -> Tensor:
    return 0.5 * ((fake - 1) ** 2).mean()


def hinge_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def hinge_g_loss(fake: Tensor, real: Tensor | None = None) -> Tensor:
    return -fake.mean()


def wgan_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return fake.mean() - real.mean()


def wgan_g_loss(fake: Tensor, real: Tensor | None = None) -> Tensor:
    return -fake.mean()


def ragan_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return 0.5 * (_bce_logits(real - fake.mean(), 1.0) + _bce_logits(fake - real.mean(), 0.0))


def ragan_g_loss(fake: Tensor, real: Tensor | None = None) -> Tensor:
    if real is None:
        raise ValueError("the relativistic average loss needs the real logits in the generator step")
    return 0.5 * (_bce_logits(real - fake.mean(), 0.0) + _bce_logits(fake - real.mean(), 1.0))


@dataclass(frozen=True)
class AdversarialLoss:
    """A pair of discriminator/generator losses plus what the trainer must do for them."""

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[..., Tensor]
    needs_real_in_g: bool = False  # relativistic losses look at D(real) in the G step
    gradient_penalty: bool = False  # WGAN-GP adds a penalty on interpolates


ADVERSARIAL_LOSSES: dict[str, AdversarialLoss] = {
    "ns": AdversarialLoss("ns", ns_d_loss, ns_g_loss),
    "lsgan": AdversarialLoss("lsgan", lsgan_d_loss, lsgan_g_loss),
    "hinge": AdversarialLoss("hinge", hinge_d_loss, hinge_g_loss),
    "wgan-gp": AdversarialLoss("wgan-gp", wgan_d_loss, wgan_g_loss, gradient_penalty=True),
    "ragan": AdversarialLoss("ragan", ragan_d_loss, ragan_g_loss, needs_real_in_g=True),
}
