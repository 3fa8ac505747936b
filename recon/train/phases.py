"""The phases of one GAN training step: discriminator, then generator.

Each phase runs over the step's micro-batches (gradient accumulation), sums the terms the
run's objective (:mod:`recon.losses.objective`) returns for each, does a single optimizer
step, and returns its logged values as floats. Lazy regularization (R1 / gradient penalty on
D, e.g. path length on G) is one of the objective's terms on the steps it is due, so there
is still one backward pass and one gradient all-reduce per network per step.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Protocol, cast

import torch
from torch import Tensor, nn

from recon.losses.objective import Objective, PhaseLoss
from recon.task import Parts, split_generated
from recon.train.precision import autocast


class _AdaptsToLogits(Protocol):
    """An augmentation that adapts to D's logits on the real images (ADA's ``update``)."""

    def update(self, real_logits: Tensor) -> None: ...


@dataclass
class PhaseContext:
    """Everything the phases need, built once by the trainer."""

    parts: Parts
    objective: Objective
    cfg: Any
    device: torch.device
    generator: nn.Module  # the module trained (possibly DDP-wrapped or compiled)
    discriminator: nn.Module | None  # idem
    discriminator_raw: nn.Module | None  # the bare module (maybe compiled), used in the G phase
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

    def generate(self, generator: nn.Module, batch: dict[str, Tensor],
                 rng: torch.Generator | None) -> tuple[Tensor, dict[str, Tensor]]:
        """``(images, aux)`` of the task's ``generate`` (aux empty when it returned the images alone)."""
        return split_generated(self.parts.generate(generator, batch, rng))


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


def _accumulate(totals: dict[str, float], phase: PhaseLoss, n: int) -> None:
    """Add one micro-batch's logged values (means over the step's ``n`` micro-batches)."""
    logged = {k: v for k, v in phase.terms.items() if not k.startswith("_")}
    logged.update(phase.logs)
    for key, value in logged.items():
        totals[key] = totals.get(key, 0.0) + float(value.detach()) / n


def discriminator_phase(ctx: PhaseContext, optimizer: torch.optim.Optimizer,
                        scaler: torch.amp.GradScaler, batches: list[dict[str, Tensor]],
                        step: int, rng: torch.Generator) -> dict[str, float]:
    """One discriminator update over ``batches`` (micro-batches of one step): the objective's
    terms of each micro-batch, one optimizer step."""
    D = ctx.discriminator
    assert D is not None
    optimizer.zero_grad(set_to_none=True)
    totals: dict[str, float] = {}
    real_logits_all = []
    for i, batch in enumerate(batches):
        last = i == len(batches) - 1
        with ctx.no_sync(D, last):
            phase = ctx.objective.discriminator_loss(ctx, batch, step, rng)
            loss = cast(Tensor, sum(phase.terms.values()))
            scaler.scale(loss / len(batches)).backward()
            if phase.real_logits is not None:
                real_logits_all.append(phase.real_logits)
            _accumulate(totals, phase, len(batches))
    # every logged value finite (the terms and D's logits); every rank decides alike
    loss_ok = not ctx.any_rank(not all(math.isfinite(v) for v in totals.values()))
    ok = optimizer_step(optimizer, scaler, [p for p in D.parameters() if p.requires_grad],
                        ctx.cfg.trainer.grad_clip, loss_finite=loss_ok)
    if ctx.augment is not None and hasattr(ctx.augment, "update") and real_logits_all:
        cast(_AdaptsToLogits, ctx.augment).update(torch.cat([r.flatten() for r in real_logits_all]))
    if ctx.any_rank(not ok):
        totals["nonfinite"] = 1.0
    return totals


def generator_phase(ctx: PhaseContext, optimizer: torch.optim.Optimizer,
                    scaler: torch.amp.GradScaler, batches: list[dict[str, Tensor]],
                    step: int, rng: torch.Generator, adversarial_on: bool) -> dict[str, float]:
    """One generator update: the objective's terms of each micro-batch (content, adversarial,
    lazy G regularization), one optimizer step. D is frozen meanwhile."""
    D = ctx.discriminator_raw
    if D is not None:
        D.requires_grad_(False)
    optimizer.zero_grad(set_to_none=True)
    totals: dict[str, float] = {}
    try:
        for i, batch in enumerate(batches):
            last = i == len(batches) - 1
            with ctx.no_sync(ctx.generator, last):
                phase = ctx.objective.generator_loss(ctx, batch, step, rng, adversarial_on)
                loss = cast(Tensor, sum(phase.terms.values()))
                scaler.scale(loss / len(batches)).backward()
            totals["g_loss"] = totals.get("g_loss", 0.0) + float(loss.detach()) / len(batches)
            _accumulate(totals, phase, len(batches))
    finally:
        if D is not None:
            D.requires_grad_(True)
    loss_ok = not ctx.any_rank(not math.isfinite(totals["g_loss"]))
    ok = optimizer_step(optimizer, scaler, [p for p in ctx.generator.parameters() if p.requires_grad],
                        ctx.cfg.trainer.grad_clip, loss_finite=loss_ok)
    if ctx.any_rank(not ok):
        totals["nonfinite"] = 1.0
    return totals
