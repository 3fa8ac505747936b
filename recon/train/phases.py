"""The phases of one GAN training step: discriminator, then generator.

Each phase runs over the step's micro-batches (gradient accumulation), sums the terms the
run's objective (:mod:`recon.losses.objective`) returns for each, does a single optimizer
step, and returns its logged values as 0-dim float64 tensors on the device (read by the
trainer only when it logs). Lazy regularization (R1 / gradient penalty on D, e.g. path
length on G) is one of the objective's terms on the steps it is due, so there is still one
backward pass and one gradient all-reduce per network per step.

Synchronisation: a step reads the device once. The discriminator's finiteness (its logged
values and gradients) is a flag on the device; its optimizer step is taken and undone on the
device where the flag is set (:class:`recon.train.step_gate.StepGate`). The generator phase
then reads D's flags and its own in one transfer (after one all-reduce under DDP) and steps
G only when its own are clear. With fp16 the loss scaler reads its own inf checks (one
synchronisation per optimizer step, GradScaler's design), so D is then decided on the host.

One forward of G: where :func:`recon.train.shared_forward.shares_generator_forward` allows it,
D's last update generates with G's graph and hands ``(fake, aux)`` to the G phase, which
computes its terms on them instead of generating again (identical results, one forward less).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Protocol, cast

import torch
from torch import Tensor, nn

from recon.losses.objective import GANObjective, Objective, PhaseLoss
from recon.task import Parts, split_generated
from recon.train.precision import autocast
from recon.train.shared_forward import footprint, same_footprint, shares_generator_forward
from recon.train.step_gate import StepGate

#: G's output for one micro-batch, ``(fake (N, C, H, W), aux)``, with its graph
Generated = tuple[Tensor, dict[str, Tensor]]


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
    # the same on the device: a float flag vector all-reduced (max) in place, no host read
    agree: Callable[[Tensor], Tensor] = lambda flags: flags

    def autocast(self, enabled: bool = True) -> ContextManager:
        """The run's autocast; ``enabled=False`` forces fp32 (penalty passes)."""
        return autocast(self.device, self.cfg.trainer.precision, enabled)

    def generate(self, generator: nn.Module, batch: dict[str, Tensor],
                 rng: torch.Generator | None) -> tuple[Tensor, dict[str, Tensor]]:
        """``(images, aux)`` of the task's ``generate`` (aux empty when it returned the images alone)."""
        return split_generated(self.parts.generate(generator, batch, rng))


def grads_nonfinite(params: list[Tensor]) -> Tensor | None:
    """0-dim bool on the device: some gradient is not finite (one fused norm); ``None`` without gradients."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return None
    return ~torch.isfinite(torch.stack(torch._foreach_norm(grads))).all()


def grads_finite(params: list[Tensor]) -> bool:
    """True when every gradient is finite (reads the device once)."""
    bad = grads_nonfinite(params)
    return bad is None or not bool(bad)


def values_nonfinite(values: list[Tensor]) -> Tensor:
    """0-dim bool on the device: one of the 0-dim ``values`` is NaN or Inf (False for none)."""
    if not values:
        return torch.zeros((), dtype=torch.bool)
    return ~torch.isfinite(torch.stack(values)).all()


def optimizer_step(optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
                   params: list[Tensor], grad_clip: float, loss_finite: bool = True,
                   grads_checked: bool = False) -> bool:
    """Unscale, check, clip and step. Returns False (and skips the step) on a non-finite
    loss or non-finite gradients (an Inf target under L1 gives finite +-1 gradients, so
    the loss is checked too). ``grads_checked``: the caller already knows the gradients are
    finite (no second check, no read of the device).

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
    if not grads_checked and not grads_finite(params):
        optimizer.zero_grad(set_to_none=True)
        return False
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    return True


def _accumulate(totals: dict[str, Tensor], phase: PhaseLoss, n: int) -> None:
    """Add one micro-batch's logged values (means over the step's ``n`` micro-batches), in
    float64 on the device: the same sums a Python float would give, without reading them."""
    logged = {k: v for k, v in phase.terms.items() if not k.startswith("_")}
    logged.update(phase.logs)
    for key, value in logged.items():
        totals[key] = totals.get(key, 0.0) + value.detach().double() / n


@dataclass
class DiscriminatorResult:
    """One D update: its logged values (0-dim float64), its fault flag (0-dim bool, on the
    device, agreed over ranks), the gate to settle once the flag was read (None with fp16) and,
    when asked to keep it, G's output with its graph for the G phase (one micro-batch)."""

    logs: dict[str, Tensor]
    bad: Tensor
    gate: StepGate | None
    generated: Generated | None = None


def _discriminator_terms_keeping(ctx: PhaseContext, batch: dict[str, Tensor], step: int,
                                 rng: torch.Generator) -> tuple[PhaseLoss, Generated | None]:
    """D's terms on a fake generated with G's graph, and that ``(fake, aux)`` for the G phase
    (``None`` when the forward changed a buffer or drew random numbers: the G phase then
    generates again, as without sharing). D sees them detached, as in
    :meth:`GANObjective.discriminator_loss`."""
    before = footprint(ctx.generator, rng, ctx.device)
    with ctx.autocast():
        fake, aux = ctx.generate(ctx.generator, batch, rng)
    unchanged = same_footprint(before, footprint(ctx.generator, rng, ctx.device))
    objective = cast(GANObjective, ctx.objective)  # shares_generator_forward checked it
    phase = objective.discriminator_terms(ctx, batch, step, rng, fake.detach(),
                                          {k: v.detach() for k, v in aux.items()})
    return phase, (fake, aux) if unchanged else None


def discriminator_phase(ctx: PhaseContext, optimizer: torch.optim.Optimizer,
                        scaler: torch.amp.GradScaler, batches: list[dict[str, Tensor]],
                        step: int, rng: torch.Generator, keep: bool = False) -> DiscriminatorResult:
    """One discriminator update over ``batches`` (micro-batches of one step): the objective's
    terms of each micro-batch, one optimizer step, undone on the device if a logged value
    (the terms and D's logits) or a gradient is not finite. No read of the device (but with fp16).
    ``keep`` (one micro-batch): generate with G's graph and keep the output for the G phase."""
    D = ctx.discriminator
    assert D is not None
    assert not keep or len(batches) == 1, "one kept output per step: one micro-batch"
    optimizer.zero_grad(set_to_none=True)
    totals: dict[str, Tensor] = {}
    real_logits_all = []
    generated: Generated | None = None
    for i, batch in enumerate(batches):
        last = i == len(batches) - 1
        with ctx.no_sync(D, last):
            if keep:
                phase, generated = _discriminator_terms_keeping(ctx, batch, step, rng)
            else:
                phase = ctx.objective.discriminator_loss(ctx, batch, step, rng)
            loss = cast(Tensor, sum(phase.terms.values()))
            scaler.scale(loss / len(batches)).backward()
            if phase.real_logits is not None:
                real_logits_all.append(phase.real_logits)
            _accumulate(totals, phase, len(batches))
    params: list[Tensor] = [p for p in D.parameters() if p.requires_grad]
    loss_bad = values_nonfinite(list(totals.values()))
    gate = None
    if scaler.is_enabled():  # GradScaler reads its inf checks on the host anyway
        loss_ok = not ctx.any_rank(bool(loss_bad))
        ok = optimizer_step(optimizer, scaler, params, ctx.cfg.trainer.grad_clip, loss_finite=loss_ok)
        bad = torch.tensor(ctx.any_rank(not ok), device=loss_bad.device)
    else:
        grads_bad = grads_nonfinite(params)
        bad = loss_bad if grads_bad is None else loss_bad | grads_bad
        bad = ctx.agree(bad.float().reshape(1))[0] > 0  # every rank restores alike
        gate = StepGate(optimizer, params)
        gate.step(lambda: optimizer_step(optimizer, scaler, params, ctx.cfg.trainer.grad_clip, grads_checked=True),
                  bad)
    if ctx.augment is not None and hasattr(ctx.augment, "update") and real_logits_all:
        cast(_AdaptsToLogits, ctx.augment).update(torch.cat([r.flatten() for r in real_logits_all]))
    return DiscriminatorResult(totals, bad, gate, generated)


def generator_phase(ctx: PhaseContext, optimizer: torch.optim.Optimizer,
                    scaler: torch.amp.GradScaler, batches: list[dict[str, Tensor]],
                    step: int, rng: torch.Generator, adversarial_on: bool,
                    pending: list[Tensor] | None = None,
                    generated: Generated | None = None) -> tuple[dict[str, Tensor], list[bool]]:
    """One generator update: the objective's terms of each micro-batch (content, adversarial,
    lazy G regularization), one optimizer step. D is frozen meanwhile. ``generated``: G's
    output for the one micro-batch, kept by D's update of this step (G is not run again).

    The step's one read of the device happens here: the flags of ``pending`` (the D updates'
    :attr:`DiscriminatorResult.bad`) and G's own (``g_loss`` or a gradient not finite),
    agreed over ranks in one all-reduce. Returns the logged values (0-dim float64 tensors)
    and the flags read, ``pending``'s first and G's last; G stepped only if its flag is clear.
    """
    D = ctx.discriminator_raw
    if D is not None:
        D.requires_grad_(False)
    optimizer.zero_grad(set_to_none=True)
    totals: dict[str, Tensor] = {}
    try:
        for i, batch in enumerate(batches):
            last = i == len(batches) - 1
            with ctx.no_sync(ctx.generator, last):
                if generated is not None:
                    phase = cast(GANObjective, ctx.objective).generator_terms(ctx, batch, step, rng,
                                                                              adversarial_on, *generated)
                else:
                    phase = ctx.objective.generator_loss(ctx, batch, step, rng, adversarial_on)
                loss = cast(Tensor, sum(phase.terms.values()))
                scaler.scale(loss / len(batches)).backward()
            totals["g_loss"] = totals.get("g_loss", 0.0) + loss.detach().double() / len(batches)
            _accumulate(totals, phase, len(batches))
    finally:
        if D is not None:
            D.requires_grad_(True)
    params: list[Tensor] = [p for p in ctx.generator.parameters() if p.requires_grad]
    loss_bad = ~torch.isfinite(totals["g_loss"])
    grads_bad = None if scaler.is_enabled() else grads_nonfinite(params)  # fp16: the scaler skips inf steps
    flags = [*(pending or []), loss_bad, grads_bad if grads_bad is not None else torch.zeros_like(loss_bad)]
    read = [v > 0 for v in ctx.agree(torch.stack([f.float() for f in flags])).tolist()]  # the step's one read
    *verdicts, g_loss_bad, g_grads_bad = read
    ok = optimizer_step(optimizer, scaler, params, ctx.cfg.trainer.grad_clip, loss_finite=not g_loss_bad,
                        grads_checked=True) if not g_grads_bad else False
    if g_grads_bad:
        optimizer.zero_grad(set_to_none=True)
    return totals, [*verdicts, not ok]


def gan_step(ctx: PhaseContext, d_opt: tuple[torch.optim.Optimizer | None, torch.amp.GradScaler],
             g_opt: tuple[torch.optim.Optimizer, torch.amp.GradScaler], batches: list[dict[str, Tensor]],
             step: int, rng: torch.Generator, d_steps: int, adversarial_on: bool) -> dict[str, Any]:
    """``d_steps`` discriminator updates, then the generator's, on one step's micro-batches.

    ``d_opt``/``g_opt``: ``(optimizer, scaler)`` of D and G. Returns the logged values (0-dim
    float64 tensors; D's from its last update) and ``"nonfinite"`` (1.0 when an update was
    bad, else 0.0), after the step's one read of the device. D's last update hands G's output
    to the G phase where :func:`~recon.train.shared_forward.shares_generator_forward` allows."""
    logs: dict[str, Any] = {}
    d_updates: list[DiscriminatorResult] = []
    share = shares_generator_forward(ctx.cfg.trainer.reuse_fake, ctx.parts, ctx.objective, ctx.generator,
                                     len(batches), d_steps)
    for k in range(d_steps):
        assert d_opt[0] is not None  # d_steps > 0 needs D's optimizer
        d_updates.append(discriminator_phase(ctx, d_opt[0], d_opt[1], batches, step, rng,
                                             keep=share and k == d_steps - 1))
        logs.update(d_updates[-1].logs)
    generated = d_updates[-1].generated if d_updates else None
    g_logs, verdicts = generator_phase(ctx, g_opt[0], g_opt[1], batches, step, rng, adversarial_on,
                                       [d.bad for d in d_updates], generated)
    logs.update(g_logs)
    for update, bad in zip(d_updates, verdicts, strict=False):
        if update.gate is not None:
            update.gate.settle(bad)  # D's host-side step counters, now that the flags were read
    logs["nonfinite"] = 1.0 if any(verdicts) else 0.0
    return logs
