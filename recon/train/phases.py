"""The phases of one GAN training step: discriminator, generator, and lazy regularization.

Each phase runs over the step's micro-batches (gradient accumulation), does a single
optimizer step, and returns its losses as floats. Regularization (R1 / gradient penalty on
D, e.g. path length on G) is added to the main loss on the steps it is due, scaled by the
interval (StyleGAN2's lazy regularization), so there is still one backward pass and one
gradient all-reduce per network per step.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Protocol, cast

import torch
from torch import Tensor, nn

from recon.losses import AdversarialLoss, artifact_loss, gradient_penalty, r1_penalty
from recon.task import split_generated
from recon.train.precision import autocast


class _AdaptsToLogits(Protocol):
    """An augmentation that adapts to D's logits on the real images (ADA's ``update``)."""

    def update(self, real_logits: Tensor) -> None: ...


@dataclass
class PhaseContext:
    """Everything the phases need, built once by the trainer."""

    task: Any
    cfg: Any
    device: torch.device
    generator: nn.Module  # the module trained (possibly DDP-wrapped or compiled)
    discriminator: nn.Module | None  # idem
    discriminator_raw: nn.Module | None  # the bare module (maybe compiled), used in the G phase
    adversarial: AdversarialLoss
    augment: nn.Module | None = None
    g_regularizer: nn.Module | None = None
    perceptual_fn: Callable[[Tensor, Tensor], Tensor] | None = None
    ema_generator: nn.Module | None = None  # the EMA copy (LDL's artifact loss compares with it)
    no_sync: Callable[[nn.Module, bool], ContextManager] = field(
        default=lambda module, last: contextlib.nullcontext())
    # uncompiled (DDP-wrapped) modules for passes with a double backward (R1, GP, path length)
    generator_eager: nn.Module | None = None
    discriminator_eager: nn.Module | None = None
    # True when a flag is true on any process, so every rank takes the same NaN decision
    any_rank: Callable[[bool], bool] = bool

    def autocast(self, enabled: bool = True) -> ContextManager:
        """The run's autocast; ``enabled=False`` forces fp32 (penalty passes)."""
        return autocast(self.device, self.cfg.trainer.precision, enabled)


def grads_finite(params: list[Tensor]) -> bool:
    """True when every gradient is finite (one fused norm, no per-tensor sync)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return True
    return bool(torch.isfinite(torch.stack(torch._foreach_norm(grads))).all())


def optimizer_step(optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
                   params: list[Tensor], grad_clip: float, loss_finite: bool = True) -> bool:
    """Unscale, check, clip and step. Returns False (and skips the step) on a non-finite
    loss or non-finite gradients (an Inf target under L1 gives finite +-1 gradients, so
    the loss is checked too).

    With fp16 the scaler already skips steps with inf gradients and lowers its scale; that
    is normal loss-scaling behaviour and is not reported as a fault.
    """
    if not loss_finite:
        optimizer.zero_grad(set_to_none=True)
        if scaler.is_enabled():
            scaler.update()
        return False
    if scaler.is_enabled():
        scaler.unscale_(optimizer)
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
        scaler.step(optimizer)
        scaler.update()
        return True
    if not grads_finite(params):
        optimizer.zero_grad(set_to_none=True)
        return False
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    return True


def _augment(ctx: PhaseContext, images: Tensor) -> Tensor:
    return ctx.augment(images) if ctx.augment is not None else images


def discriminator_phase(ctx: PhaseContext, optimizer: torch.optim.Optimizer,
                        scaler: torch.amp.GradScaler, batches: list[dict[str, Tensor]],
                        step: int, rng: torch.Generator) -> dict[str, float]:
    """One discriminator update over ``batches`` (micro-batches of one step)."""
    loss_cfg = ctx.cfg.loss
    D = ctx.discriminator
    assert D is not None
    reg_due = step % max(1, loss_cfg.reg_interval) == 0
    use_r1 = reg_due and loss_cfg.r1_gamma > 0
    use_gp = reg_due and ctx.adversarial.gradient_penalty and loss_cfg.gp_weight > 0
    if (use_r1 or use_gp) and ctx.discriminator_eager is not None:
        D = ctx.discriminator_eager  # compiled graphs have no double backward
    optimizer.zero_grad(set_to_none=True)
    totals: dict[str, float] = {}
    real_logits_all = []
    for i, batch in enumerate(batches):
        last = i == len(batches) - 1
        with ctx.no_sync(D, last):
            with torch.no_grad(), ctx.autocast():
                fake, _ = split_generated(ctx.task.generate(ctx.generator, batch, rng))
            real = ctx.task.real_images(batch).detach()
            if use_r1:
                real = real.requires_grad_(True)
            real_in = _augment(ctx, ctx.task.discriminator_input(ctx.cfg, batch, real))
            fake_in = _augment(ctx, ctx.task.discriminator_input(ctx.cfg, batch, fake.detach()))
            with ctx.autocast(enabled=not use_r1):  # R1 differentiates this pass: fp32
                real_logits = D(real_in)
            with ctx.autocast():
                fake_logits = D(fake_in)
            loss = ctx.adversarial.d_loss(real_logits.float(), fake_logits.float())
            parts = {"d_loss": loss.detach()}
            if use_r1:
                r1 = r1_penalty(real_logits, real)
                loss = loss + r1 * (loss_cfg.r1_gamma / 2) * loss_cfg.reg_interval
                parts["r1"] = r1.detach()
            if use_gp:
                gp = gradient_penalty(D, real_in, fake_in, generator=rng)
                loss = loss + gp * loss_cfg.gp_weight * loss_cfg.reg_interval
                parts["gp"] = gp.detach()
            scaler.scale(loss / len(batches)).backward()
            real_logits_all.append(real_logits.detach())
            for key, value in parts.items():
                totals[key] = totals.get(key, 0.0) + float(value) / len(batches)
            totals["d_real"] = totals.get("d_real", 0.0) + float(real_logits.detach().float().mean()) / len(batches)
            totals["d_fake"] = totals.get("d_fake", 0.0) + float(fake_logits.detach().float().mean()) / len(batches)
    loss_ok = not ctx.any_rank(not math.isfinite(totals["d_loss"]))  # every rank decides alike
    ok = optimizer_step(optimizer, scaler, [p for p in D.parameters() if p.requires_grad],
                        ctx.cfg.trainer.grad_clip, loss_finite=loss_ok)
    if ctx.augment is not None and hasattr(ctx.augment, "update"):
        cast(_AdaptsToLogits, ctx.augment).update(torch.cat([r.flatten() for r in real_logits_all]))
    if ctx.any_rank(not ok):
        totals["nonfinite"] = 1.0
    return totals


def generator_phase(ctx: PhaseContext, optimizer: torch.optim.Optimizer,
                    scaler: torch.amp.GradScaler, batches: list[dict[str, Tensor]],
                    step: int, rng: torch.Generator, adversarial_on: bool) -> dict[str, float]:
    """One generator update: content terms, the adversarial term, lazy G regularization."""
    loss_cfg = ctx.cfg.loss
    D = ctx.discriminator_raw
    use_adv = adversarial_on and D is not None and loss_cfg.adversarial > 0
    reg_due = ctx.g_regularizer is not None and step % max(1, loss_cfg.g_reg_interval) == 0
    if D is not None:
        D.requires_grad_(False)
    optimizer.zero_grad(set_to_none=True)
    totals: dict[str, float] = {}
    try:
        for i, batch in enumerate(batches):
            last = i == len(batches) - 1
            with ctx.no_sync(ctx.generator, last):
                with ctx.autocast():
                    fake, aux = split_generated(ctx.task.generate(ctx.generator, batch, rng))
                terms = ctx.task.content_loss(ctx.cfg, {**batch, **aux} if aux else batch, fake.float(),
                                              ctx.perceptual_fn)
                if loss_cfg.artifact > 0 and ctx.ema_generator is not None:
                    with torch.no_grad(), ctx.autocast():
                        ema_fake, _ = split_generated(ctx.task.generate(ctx.ema_generator, batch, None))
                    terms["artifact"] = loss_cfg.artifact * artifact_loss(
                        fake.float(), ctx.task.real_images(batch).float(), ema_fake.float())
                if use_adv:
                    assert D is not None  # use_adv implies it
                    with ctx.autocast():
                        fake_logits = D(_augment(ctx, ctx.task.discriminator_input(ctx.cfg, batch, fake)))
                        real_logits = None
                        if ctx.adversarial.needs_real_in_g:
                            real = ctx.task.real_images(batch)
                            real_in = _augment(ctx, ctx.task.discriminator_input(ctx.cfg, batch, real))
                            real_logits = D(real_in).detach().float()
                    terms["g_adv"] = loss_cfg.adversarial * ctx.adversarial.g_loss(fake_logits.float(), real_logits)
                if reg_due:
                    assert ctx.g_regularizer is not None  # reg_due implies it
                    terms["g_reg"] = ctx.g_regularizer(ctx.generator_eager or ctx.generator,
                                                       batch) * loss_cfg.g_reg_interval
                loss = sum(terms.values()) if terms else fake.sum() * 0
                scaler.scale(loss / len(batches)).backward()
            totals["g_loss"] = totals.get("g_loss", 0.0) + float(loss.detach()) / len(batches)
            for key, value in terms.items():
                totals[key] = totals.get(key, 0.0) + float(value.detach()) / len(batches)
    finally:
        if D is not None:
            D.requires_grad_(True)
    loss_ok = not ctx.any_rank(not math.isfinite(totals["g_loss"]))
    ok = optimizer_step(optimizer, scaler, [p for p in ctx.generator.parameters() if p.requires_grad],
                        ctx.cfg.trainer.grad_clip, loss_finite=loss_ok)
    if ctx.any_rank(not ok):
        totals["nonfinite"] = 1.0
    return totals
