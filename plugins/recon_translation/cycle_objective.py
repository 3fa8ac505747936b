"""CycleGAN's objective (Zhu et al. 2017) in core's phases: what D and G minimise per micro-batch.

Batches hold ``input`` (domain A patches, ``(N, C, P, P)``) and ``domain_b`` (domain B patches,
unaligned). The trainer's generator is a :class:`recon_translation.cyclegan.CycleGenerator`
(``g_ab``, ``g_ba``), its discriminator a :class:`~recon_translation.cyclegan.CycleDiscriminator`
(``d_a``, ``d_b``); core's phases do one optimizer step for each module per step.

- D: ``d_b = loss(D_B(b), D_B(G_AB(a)))`` and ``d_a = loss(D_A(a), D_A(G_BA(b)))`` with the
  registered adversarial loss (``lsgan``: ``1/2 E[(r-1)^2] + 1/2 E[f^2]``, CycleGAN's halved D loss).
- G: ``adversarial`` x (``g_loss(D_B(G_AB(a))) + g_loss(D_A(G_BA(b)))``) + ``cycle`` x
  (``|G_BA(G_AB(a)) - a|_1 + |G_AB(G_BA(b)) - b|_1``) + ``identity`` x
  (``|G_AB(b) - b|_1 + |G_BA(a) - a|_1``). CycleGAN: ``cycle = 10``, ``identity = 5``.

No image pool (CycleGAN's history of 50 fakes): D sees the current fakes, so a step depends on
nothing but the weights and ``(seed, step)`` and a resumed run is bit-exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from recon.api import GANObjective, PhaseLoss


def _augmented(ctx: Any, images: Tensor) -> Tensor:
    """D's input augmentation (``loss.d_augment`` / ADA), applied alike to reals and fakes."""
    return ctx.augment(images) if ctx.augment is not None else images


@dataclass
class CycleObjective(GANObjective):
    """Adversarial + cycle + identity terms for both directions (see the module docstring).

    Attributes (besides :class:`recon.api.GANObjective`'s ``loss`` and ``adversarial``):
        cycle: weight of the L1 cycle-consistency term (CycleGAN's lambda).
        cycle_warmup: steps over which the cycle weight ramps linearly from 0 (0: none).
        identity: weight of the L1 identity term (CycleGAN: 0.5 lambda); 0 skips its passes.
    """

    cycle: float = 10.0
    identity: float = 5.0
    cycle_warmup: int = 0

    def cycle_weight(self, step: int) -> float:
        """The cycle weight at ``step``: ramped linearly from 0 over ``cycle_warmup`` steps."""
        if self.cycle_warmup <= 0:
            return self.cycle
        return self.cycle * min(1.0, step / self.cycle_warmup)

    @classmethod
    def from_config(cls, loss_cfg: Any) -> "CycleObjective":
        from typing import cast

        objective = cast("CycleObjective", super().from_config(loss_cfg))
        objective.cycle, objective.identity = loss_cfg.cycle, loss_cfg.identity
        objective.cycle_warmup = loss_cfg.cycle_warmup
        return objective

    def discriminator_loss(self, ctx: Any, batch: dict[str, Tensor], step: int,
                           rng: torch.Generator) -> PhaseLoss:
        D = ctx.discriminator
        assert D is not None
        a, b = batch["input"], batch["domain_b"]
        with torch.no_grad(), ctx.autocast():
            fakes = ctx.generator(a, b, cycle=False)
        with ctx.autocast():
            real_a, real_b = D(_augmented(ctx, a), _augmented(ctx, b))
            fake_a, fake_b = D(_augmented(ctx, fakes["fake_a"].detach()), _augmented(ctx, fakes["fake_b"].detach()))
        d_a = self.loss.d_loss(real_a.float(), fake_a.float())
        d_b = self.loss.d_loss(real_b.float(), fake_b.float())
        logs = {"d_real": 0.5 * (real_a.detach().float().mean() + real_b.detach().float().mean()),
                "d_fake": 0.5 * (fake_a.detach().float().mean() + fake_b.detach().float().mean())}
        reals = torch.cat([real_a.detach().flatten(), real_b.detach().flatten()])
        return PhaseLoss({"d_a": d_a, "d_b": d_b}, logs, reals)

    def generator_loss(self, ctx: Any, batch: dict[str, Tensor], step: int,
                       rng: torch.Generator, adversarial_on: bool) -> PhaseLoss:
        D = ctx.discriminator_raw
        use_adv = adversarial_on and D is not None and self.adversarial > 0
        a, b = batch["input"], batch["domain_b"]
        with ctx.autocast():
            out = ctx.generator(a, b, cycle=True, identity=self.identity > 0)
        terms: dict[str, Tensor] = {}
        logs: dict[str, Tensor] = {}
        cycle_a = F.l1_loss(out["rec_a"].float(), a.float())
        cycle_b = F.l1_loss(out["rec_b"].float(), b.float())
        terms["cycle"] = self.cycle_weight(step) * (cycle_a + cycle_b)
        logs["cycle_a"], logs["cycle_b"] = cycle_a.detach(), cycle_b.detach()
        if self.identity > 0:
            terms["identity"] = self.identity * (F.l1_loss(out["idt_b"].float(), b.float())
                                                 + F.l1_loss(out["idt_a"].float(), a.float()))
        if use_adv:
            assert D is not None
            with ctx.autocast():
                logits_a, logits_b = D(_augmented(ctx, out["fake_a"]), _augmented(ctx, out["fake_b"]))
                real_a = real_b = None
                if self.loss.needs_real_in_g:
                    real_a, real_b = (x.detach().float() for x in D(_augmented(ctx, a), _augmented(ctx, b)))
            g_a = self.loss.g_loss(logits_a.float(), real_a)
            g_b = self.loss.g_loss(logits_b.float(), real_b)
            terms["g_adv"] = self.adversarial * (g_a + g_b)
            logs["g_adv_a"], logs["g_adv_b"] = g_a.detach(), g_b.detach()
        return PhaseLoss(terms, logs)
