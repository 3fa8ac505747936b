"""The conditional StyleGAN2 objective: core's :class:`recon.api.GANObjective` with labels for D.

A projection discriminator (StyleGAN2-ADA's conditional D) scores ``(image, label)`` pairs:
the reals with their labels (``batch["label"]``, class indices), the fakes with the labels
the generator drew them with (``generate``'s aux ``"c"``, one-hot). The losses, lazy R1 and
the lazy path-length term (on the fakes' labels) are core's; only the calls of D differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor

from recon.api import ConfigError, GANObjective, PhaseLoss
from recon_stylegan2.regularizers import r1_penalty
from recon_stylegan2.sampling import one_hot, unwrap

__all__ = ["ConditionalObjective"]


def _augmented(ctx: Any, images: Tensor) -> Tensor:
    return ctx.augment(images) if ctx.augment is not None else images


def _real_labels(ctx: Any, batch: dict[str, Tensor]) -> Tensor:
    D = ctx.discriminator_raw if ctx.discriminator_raw is not None else ctx.discriminator
    disc: Any = unwrap(D)
    return one_hot(batch["label"].to(batch["target"].device), int(disc.c_dim))


@dataclass
class ConditionalObjective(GANObjective):
    """:class:`recon.api.GANObjective` whose discriminator also sees the labels: ``D(x, c)``."""

    @classmethod
    def from_config(cls, loss_cfg: Any) -> "ConditionalObjective":
        objective = cast("ConditionalObjective", super().from_config(loss_cfg))
        if objective.loss.gradient_penalty and objective.gp_weight > 0:
            raise ConfigError(f"loss.gan_type={loss_cfg.gan_type} with loss.gp_weight > 0: the gradient penalty "
                              "is not implemented for the conditional stylegan2 (data.labels); use R1 "
                              "(loss.r1_gamma) or set loss.gp_weight=0")
        return objective

    def discriminator_loss(self, ctx: Any, batch: dict[str, Tensor], step: int,
                           rng: torch.Generator) -> PhaseLoss:
        parts = ctx.parts
        use_r1, _ = self.regularized(step)
        D = ctx.discriminator
        assert D is not None
        if use_r1 and ctx.discriminator_eager is not None:
            D = ctx.discriminator_eager  # compiled graphs have no double backward
        with torch.no_grad(), ctx.autocast():
            fake, aux = ctx.generate(ctx.generator, batch, rng)
        c_fake, c_real = aux["c"].detach(), _real_labels(ctx, batch)
        real = parts.real_images(batch).detach()
        if use_r1:
            real = real.requires_grad_(True)
        real_in = _augmented(ctx, parts.discriminator_input(batch, real))
        fake_in = _augmented(ctx, parts.discriminator_input(batch, fake.detach()))
        with ctx.autocast(enabled=not use_r1):  # R1 differentiates this pass: fp32
            real_logits = D(real_in, c_real)
        with ctx.autocast():
            fake_logits = D(fake_in, c_fake)
        terms = {"d_loss": self.loss.d_loss(real_logits.float(), fake_logits.float())}
        logs = {}
        if use_r1:
            r1 = r1_penalty(real_logits, real, gamma=2.0).mean()  # the squared gradient norm, as core's
            terms["r1"] = r1 * (self.r1_gamma / 2) * self.reg_interval
            logs["r1"] = r1.detach()
        logs["d_real"] = real_logits.detach().float().mean()
        logs["d_fake"] = fake_logits.detach().float().mean()
        return PhaseLoss(terms, logs, real_logits.detach())

    def generator_loss(self, ctx: Any, batch: dict[str, Tensor], step: int,
                       rng: torch.Generator, adversarial_on: bool) -> PhaseLoss:
        parts = ctx.parts
        D = ctx.discriminator_raw
        use_adv = adversarial_on and D is not None and self.adversarial > 0
        reg_due = ctx.g_regularizer is not None and step % max(1, self.g_reg_interval) == 0
        with ctx.autocast():
            fake, aux = ctx.generate(ctx.generator, batch, rng)
        c_fake = aux["c"].detach()
        assert parts.content_loss is not None  # resolved by core's build_parts
        terms = parts.content_loss({**batch, **aux}, fake.float(), ctx.perceptual_fn)
        if use_adv:
            assert D is not None  # use_adv implies it
            with ctx.autocast():
                fake_logits = D(_augmented(ctx, parts.discriminator_input(batch, fake)), c_fake)
                real_logits = None
                if self.loss.needs_real_in_g:
                    real_in = _augmented(ctx, parts.discriminator_input(batch, parts.real_images(batch)))
                    real_logits = D(real_in, _real_labels(ctx, batch)).detach().float()
            terms["g_adv"] = self.adversarial * self.loss.g_loss(fake_logits.float(), real_logits)
        if reg_due:
            assert ctx.g_regularizer is not None  # reg_due implies it
            terms["g_reg"] = ctx.g_regularizer(ctx.generator_eager or ctx.generator,
                                               {**batch, "c": c_fake}) * self.g_reg_interval
        if not terms:  # nothing to minimise this step: a zero that still reaches G's weights
            terms = {"_zero": fake.sum() * 0}
        return PhaseLoss(terms)
