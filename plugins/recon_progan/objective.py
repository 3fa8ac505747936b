"""ProGAN's objective on the core trainer: the growth stage from the step, staged reals, WGAN-GP + drift.

Every phase first sets the stage of step ``step`` (:func:`recon_progan.schedule.stage_at`) on
every copy of the networks the trainer holds (the trained modules, their eager twins and the
EMA generator), so the stage is a pure function of the global step and a resumed run continues
mid-fade exactly. The real images are then brought to the stage's resolution ``r``
(:func:`real_at_stage`): box-filtered down to ``r`` and, during a fade, blended as the paper
does, ``lerp(upsample2(downsample2(x_r)), x_r, alpha)``, so reals and fakes fade in alike.

D minimises (paper, App. A.1; ``loss.gan_type=wgan-gp``):
``E[D(G(z))] - E[D(x)] + gp_weight * E[(||grad D(x_hat)||_2 - 1)^2] + drift * E[D(x)^2]``,
the penalty every ``loss.reg_interval`` steps (1: every step) scaled by the interval. G
minimises ``-E[D(G(z))]`` (core's :class:`recon.api.GANObjective`, no content terms). Any other
registered ``loss.gan_type`` works too, with R1 (``loss.r1_gamma``) if wanted.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from recon.api import GANObjective, PhaseLoss
from recon_progan.layers import downsample2, downsample_to, upsample2
from recon_progan.sampling import unwrap
from recon_progan.schedule import Stage, stage_at

__all__ = ["ProGANObjective", "gradient_penalty", "real_at_stage"]


def real_at_stage(images: Tensor, stage: Stage, start_resolution: int) -> Tensor:
    """``(N, C, R, R[, R])`` reals -> ``(N, C, r, r[, r])`` at the stage's resolution ``r``, faded."""
    x = downsample_to(images, stage.resolution(start_resolution))
    if stage.level > 0 and stage.alpha < 1.0:
        x = torch.lerp(upsample2(downsample2(x)), x, stage.alpha)
    return x


def gradient_penalty(D: nn.Module, real: Tensor, fake: Tensor, rng: torch.Generator | None) -> Tensor:
    """WGAN-GP: ``E[(||grad_x D(x_hat)||_2 - 1)^2]`` at ``x_hat = u real + (1 - u) fake``, ``u ~ U(0, 1)``
    per sample (Gulrajani et al. 2017), in fp32."""
    u = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, generator=rng, dtype=torch.float32)
    mixed = torch.lerp(fake.detach().float(), real.detach().float(), u).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(mixed).float().sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()


def r1_penalty(logits: Tensor, real: Tensor) -> Tensor:
    """R1: ``E[||grad_x D(x)||^2]`` at the reals (``real`` requires grad)."""
    (grad,) = torch.autograd.grad(logits.float().sum(), real, create_graph=True)
    return grad.float().pow(2).flatten(1).sum(1).mean()


@dataclass
class ProGANObjective(GANObjective):
    """Core's GAN objective with the growth schedule and the drift term (see the module docstring).

    Attributes:
        levels: resolutions grown through (``start_resolution * 2**level``).
        start_resolution: the first level's side.
        phase_steps: steps per fade and per stabilising phase.
        drift: the weight of ``E[D(real)^2]`` (the paper's epsilon_drift, 0.001).
    """

    levels: int = 1
    start_resolution: int = 4
    phase_steps: int = 0
    drift: float = 0.0

    def set_stage(self, ctx: object, step: int) -> Stage:
        """Set the stage of ``step`` on every network copy in ``ctx``; returns it."""
        stage = stage_at(step, self.levels, self.phase_steps)
        for name in ("generator", "discriminator", "discriminator_raw", "ema_generator", "generator_eager",
                     "discriminator_eager"):
            module = getattr(ctx, name, None)
            if module is not None and hasattr(unwrap(module), "set_stage"):
                unwrap(module).set_stage(stage.level, stage.alpha)  # type: ignore[operator]
        return stage

    def staged(self, batch: dict[str, Tensor], stage: Stage) -> dict[str, Tensor]:
        """``batch`` with its ``target`` at the stage's resolution (:func:`real_at_stage`)."""
        return {**batch, "target": real_at_stage(batch["target"], stage, self.start_resolution)}

    @staticmethod
    def _logs(stage: Stage, device: torch.device) -> dict[str, Tensor]:
        return {"pg_level": torch.tensor(float(stage.level), device=device),
                "pg_alpha": torch.tensor(stage.alpha, device=device)}

    def discriminator_loss(self, ctx, batch: dict[str, Tensor], step: int,  # type: ignore[no-untyped-def]
                           rng: torch.Generator) -> PhaseLoss:
        stage = self.set_stage(ctx, step)
        batch = self.staged(batch, stage)
        parts = ctx.parts
        use_r1, use_gp = self.regularized(step)
        D = ctx.discriminator
        if (use_r1 or use_gp) and ctx.discriminator_eager is not None:
            D = ctx.discriminator_eager  # compiled graphs have no double backward
        with torch.no_grad(), ctx.autocast():
            fake, _ = ctx.generate(ctx.generator, batch, rng)
        real = parts.real_images(batch).detach()
        if use_r1:
            real.requires_grad_(True)
        real_in = parts.discriminator_input(batch, real)
        fake_in = parts.discriminator_input(batch, fake.detach())
        with ctx.autocast(enabled=not use_r1):
            real_logits = D(real_in)
        with ctx.autocast():
            fake_logits = D(fake_in)
        terms = {"d_loss": self.loss.d_loss(real_logits.float(), fake_logits.float())}
        logs = self._logs(stage, real.device)
        if self.drift > 0:
            drift = real_logits.float().pow(2).mean()
            terms["drift"] = drift * self.drift
            logs["drift"] = drift.detach()
        if use_r1:
            r1 = r1_penalty(real_logits, real)
            terms["r1"] = r1 * (self.r1_gamma / 2) * self.reg_interval
            logs["r1"] = r1.detach()
        if use_gp:
            gp = gradient_penalty(D, real_in, fake_in, rng)
            terms["gp"] = gp * self.gp_weight * self.reg_interval
            logs["gp"] = gp.detach()
        logs["d_real"] = real_logits.detach().float().mean()
        logs["d_fake"] = fake_logits.detach().float().mean()
        return PhaseLoss(terms, logs, real_logits.detach())

    def generator_loss(self, ctx, batch: dict[str, Tensor], step: int,  # type: ignore[no-untyped-def]
                       rng: torch.Generator, adversarial_on: bool) -> PhaseLoss:
        stage = self.set_stage(ctx, step)
        return super().generator_loss(ctx, self.staged(batch, stage), step, rng, adversarial_on)
