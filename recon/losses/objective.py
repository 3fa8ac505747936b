"""The GAN objective: what each phase of a training step minimises.

The trainer owns the loop of a step (micro-batches, precision, optimisers, DDP, finiteness);
an :class:`Objective` owns the maths, phase by phase, as stylegan2-ada's
``loss.accumulate_gradients(phase, ...)`` does: :meth:`Objective.discriminator_loss` and
:meth:`Objective.generator_loss` return the weighted terms of one micro-batch, whose sum the
trainer backpropagates. :class:`GANObjective` is the default every task gets: the task's
content terms, the registered adversarial loss of ``loss.gan_type``, lazy R1 / gradient
penalty on D, the lazy generator regularizer, and LDL's artifact term. A task that trains
differently returns its own objective in :attr:`recon.task.Parts.objective`.

:class:`GANObjective` generates in each phase and hands the output to
:meth:`GANObjective.discriminator_terms` / :meth:`GANObjective.generator_terms`; the trainer
calls those directly when one forward of G serves both phases of a step
(:mod:`recon.train.shared_forward`, only for objectives that :func:`takes_generated`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ContextManager, Protocol

import torch
from torch import Tensor, nn

from recon.losses.adversarial import AdversarialLoss
from recon.losses.artifacts import artifact_loss
from recon.losses.regularizers import gradient_penalty, r1_penalty

__all__ = ["GANObjective", "Objective", "ObjectiveContext", "PhaseLoss", "takes_generated"]


class ObjectiveContext(Protocol):
    """What the trainer hands an objective (``recon.train.phases.PhaseContext``)."""

    parts: Any  # the run's recon.task.Parts (real_images, discriminator_input, content_loss ...)
    generator: nn.Module  # the module trained (possibly DDP-wrapped or compiled)
    discriminator: nn.Module | None  # idem, for the D phase
    discriminator_raw: nn.Module | None  # the bare module, for the G phase
    generator_eager: nn.Module | None  # uncompiled modules for passes with a double backward
    discriminator_eager: nn.Module | None
    augment: nn.Module | None
    g_regularizer: nn.Module | None
    perceptual_fn: Any
    ema_generator: nn.Module | None

    def autocast(self, enabled: bool = True) -> ContextManager: ...

    def generate(self, generator: nn.Module, batch: dict[str, Tensor],
                 rng: torch.Generator | None) -> tuple[Tensor, dict[str, Tensor]]:
        """``(images, aux)`` of ``parts.generate`` (aux empty when it returned the images alone)."""
        ...


@dataclass
class PhaseLoss:
    """One micro-batch of a phase: ``terms`` (weighted, summed and backpropagated; logged
    unless their name starts with ``_``), ``logs`` (detached values logged beside them, in
    place of a term of the same name) and ``real_logits`` (D's logits on the reals, which
    an adaptive augmentation follows)."""

    terms: dict[str, Tensor]
    logs: dict[str, Tensor] = field(default_factory=dict)
    real_logits: Tensor | None = None


def augmented(ctx: ObjectiveContext, images: Tensor) -> Tensor:
    """D's augmentation of ``images`` (``(N, C, H, W)``), or the images when there is none."""
    return ctx.augment(images) if ctx.augment is not None else images


class Objective:
    """Base class of a GAN objective (see the module docstring)."""

    def discriminator_loss(self, ctx: ObjectiveContext, batch: dict[str, Tensor], step: int,
                           rng: torch.Generator) -> PhaseLoss:
        """D's weighted terms on one micro-batch (``terms`` must not be empty)."""
        raise NotImplementedError

    def generator_loss(self, ctx: ObjectiveContext, batch: dict[str, Tensor], step: int,
                       rng: torch.Generator, adversarial_on: bool) -> PhaseLoss:
        """G's weighted terms on one micro-batch; ``adversarial_on`` is false during D's warm-up."""
        raise NotImplementedError


@dataclass
class GANObjective(Objective):
    """The default objective: content + ``adversarial`` x the adversarial loss for G, the
    adversarial loss + lazy regularization for D.

    Attributes:
        loss: the adversarial loss (``loss.gan_type``'s registry entry).
        adversarial: G's adversarial weight; 0 trains G on its content terms alone.
        r1_gamma, gp_weight: R1 and gradient-penalty weights (the penalty's own switch is
            ``loss.gradient_penalty``), applied every ``reg_interval`` D steps, scaled by it.
        g_reg_interval: the generator regularizer's interval (scaled likewise).
        artifact: LDL's artifact-map weight (needs the EMA generator).
    """

    loss: AdversarialLoss
    adversarial: float = 0.0
    r1_gamma: float = 0.0
    gp_weight: float = 0.0
    reg_interval: int = 1
    g_reg_interval: int = 1
    artifact: float = 0.0

    @classmethod
    def from_config(cls, loss_cfg: Any) -> "GANObjective":
        """The objective of a ``loss`` config section (core's :class:`recon.config.LossConfig`
        or a task's subclass of it)."""
        from recon.losses.selection import adversarial_loss

        return cls(adversarial_loss(loss_cfg.gan_type), adversarial=loss_cfg.adversarial,
                   r1_gamma=loss_cfg.r1_gamma, gp_weight=loss_cfg.gp_weight, reg_interval=loss_cfg.reg_interval,
                   g_reg_interval=loss_cfg.g_reg_interval, artifact=loss_cfg.artifact)

    def judge(self, D: nn.Module, images: Tensor, batch: dict[str, Tensor], aux: dict[str, Tensor],
              real: bool) -> Tensor:
        """D's logits on ``images`` (D's input for the real images of ``batch`` when ``real``,
        else for images generated with ``aux``): ``D(images)``. A conditional objective passes
        labels here (e.g. stylegan2's projection discriminator)."""
        return D(images)

    def regularized(self, step: int) -> tuple[bool, bool]:
        """``(r1, gp)``: whether D's step ``step`` adds R1 / the gradient penalty."""
        due = step % max(1, self.reg_interval) == 0
        return due and self.r1_gamma > 0, due and self.loss.gradient_penalty and self.gp_weight > 0

    def discriminator_loss(self, ctx: ObjectiveContext, batch: dict[str, Tensor], step: int,
                           rng: torch.Generator) -> PhaseLoss:
        with torch.no_grad(), ctx.autocast():
            fake, aux = ctx.generate(ctx.generator, batch, rng)
        return self.discriminator_terms(ctx, batch, step, rng, fake, aux)

    def discriminator_terms(self, ctx: ObjectiveContext, batch: dict[str, Tensor], step: int,
                            rng: torch.Generator, fake: Tensor, aux: dict[str, Tensor]) -> PhaseLoss:
        """:meth:`discriminator_loss` on G's output ``fake`` (``(N, C, H, W)``) and ``aux``, already
        generated for ``batch``. D's terms never reach G: ``fake`` is detached here, ``aux``
        must come without a graph."""
        parts = ctx.parts
        use_r1, use_gp = self.regularized(step)
        D = ctx.discriminator
        assert D is not None
        if (use_r1 or use_gp) and ctx.discriminator_eager is not None:
            D = ctx.discriminator_eager  # compiled graphs have no double backward
        real = parts.real_images(batch).detach()
        if use_r1:
            real = real.requires_grad_(True)
        real_in = augmented(ctx, parts.discriminator_input(batch, real))
        fake_in = augmented(ctx, parts.discriminator_input(batch, fake.detach()))
        with ctx.autocast(enabled=not use_r1):  # R1 differentiates this pass: fp32
            real_logits = self.judge(D, real_in, batch, aux, real=True)
        with ctx.autocast():
            fake_logits = self.judge(D, fake_in, batch, aux, real=False)
        terms = {"d_loss": self.loss.d_loss(real_logits.float(), fake_logits.float())}
        logs = {}
        if use_r1:
            r1 = r1_penalty(real_logits, real)
            terms["r1"] = r1 * (self.r1_gamma / 2) * self.reg_interval
            logs["r1"] = r1.detach()
        if use_gp:
            gp = gradient_penalty(D, real_in, fake_in, generator=rng)
            terms["gp"] = gp * self.gp_weight * self.reg_interval
            logs["gp"] = gp.detach()
        logs["d_real"] = real_logits.detach().float().mean()
        logs["d_fake"] = fake_logits.detach().float().mean()
        return PhaseLoss(terms, logs, real_logits.detach())

    def generator_loss(self, ctx: ObjectiveContext, batch: dict[str, Tensor], step: int,
                       rng: torch.Generator, adversarial_on: bool) -> PhaseLoss:
        with ctx.autocast():
            fake, aux = ctx.generate(ctx.generator, batch, rng)
        return self.generator_terms(ctx, batch, step, rng, adversarial_on, fake, aux)

    def generator_terms(self, ctx: ObjectiveContext, batch: dict[str, Tensor], step: int, rng: torch.Generator,
                        adversarial_on: bool, fake: Tensor, aux: dict[str, Tensor]) -> PhaseLoss:
        """:meth:`generator_loss` on G's output ``fake`` (``(N, C, H, W)``, with its graph) and
        ``aux``, already generated for ``batch`` by the current weights."""
        parts = ctx.parts
        assert parts.content_loss is not None  # resolved by recon.task.build_parts
        D = ctx.discriminator_raw
        use_adv = adversarial_on and D is not None and self.adversarial > 0
        reg_due = ctx.g_regularizer is not None and step % max(1, self.g_reg_interval) == 0
        terms = parts.content_loss({**batch, **aux} if aux else batch, fake.float(), ctx.perceptual_fn)
        if self.artifact > 0 and ctx.ema_generator is not None:
            with torch.no_grad(), ctx.autocast():
                ema_fake, _ = ctx.generate(ctx.ema_generator, batch, None)
            terms["artifact"] = self.artifact * artifact_loss(
                fake.float(), parts.real_images(batch).float(), ema_fake.float())
        if use_adv:
            assert D is not None  # use_adv implies it
            with ctx.autocast():
                fake_logits = self.judge(D, augmented(ctx, parts.discriminator_input(batch, fake)), batch, aux,
                                         real=False)
                real_logits = None
                if self.loss.needs_real_in_g:
                    real_in = augmented(ctx, parts.discriminator_input(batch, parts.real_images(batch)))
                    real_logits = self.judge(D, real_in, batch, aux, real=True).detach().float()
            terms["g_adv"] = self.adversarial * self.loss.g_loss(fake_logits.float(), real_logits)
        if reg_due:
            assert ctx.g_regularizer is not None  # reg_due implies it
            terms["g_reg"] = ctx.g_regularizer(ctx.generator_eager or ctx.generator,
                                               {**batch, **aux} if aux else batch) * self.g_reg_interval
        if not terms:  # nothing to minimise this step: a zero that still reaches G's weights
            terms = {"_zero": fake.sum() * 0}
        return PhaseLoss(terms)


def takes_generated(objective: Objective) -> bool:
    """Whether ``objective``'s phases are :class:`GANObjective`'s own, so that
    :meth:`GANObjective.discriminator_terms` / :meth:`~GANObjective.generator_terms` on an output
    generated by the caller are exactly its ``discriminator_loss`` / ``generator_loss`` (a
    subclass may change :meth:`GANObjective.judge` or the terms, not how it generates)."""
    cls = type(objective)
    return (isinstance(objective, GANObjective) and cls.discriminator_loss is GANObjective.discriminator_loss
            and cls.generator_loss is GANObjective.generator_loss)
