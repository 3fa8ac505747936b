"""The two loops recon's trainer is timed against, doing exactly the trainer's maths.

- :class:`PlainLoop`: a hand-written PyTorch step without recon's bookkeeping (no phase
  functions, finiteness checks, loss scaler, autocast, DDP hooks or per-term logging):
  D update, G update with D frozen, EMA, learning-rate schedules.
- :func:`monai_gan_trainer`: MONAI's ``GanTrainer`` (an Ignite engine) with the same
  networks, optimizers and loss functions. Its G step is made like-for-like: D is frozen
  while G's loss is computed (MONAI itself leaves D's weights requiring gradients, so its
  G backward would also compute D's weight gradients and throw them away).

The maths is the trainer's own: the run's objective (``Parts.objective`` or the default
:class:`recon.losses.objective.GANObjective` of ``cfg.loss``: content terms, the adversarial
loss, lazy R1 / gradient penalty every ``loss.reg_interval`` steps, the lazy generator
regularizer every ``loss.g_reg_interval`` steps, LDL's artifact term), the step RNG and the
per-step seeding of the global RNG of :mod:`recon.train.runtime`, recon's EMA with its ramp,
and the trainer's schedules. Both copy the trainer's networks (same initial weights) and
build their own Adam optimizers with the trainer's hyper-parameters, so one step of each
loop gives the trainer's weights (``tests/test_benchmark_loops.py``): the comparison is
about the loop, never the maths.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Callable

import torch
from torch import Tensor, nn

from recon.task import split_generated
from recon.train.phases import PhaseContext
from recon.train.runtime import seed_step, step_generator
from recon.train.schedules import lr_scheduler


@dataclasses.dataclass
class _GivenOutput(PhaseContext):
    """A phase context whose ``generate`` returns an output computed by the caller (MONAI's
    ``g_inferer``) instead of running the generator again."""

    given: tuple[Tensor, dict[str, Tensor]] | None = None

    def generate(self, generator: nn.Module, batch: dict[str, Tensor],
                 rng: torch.Generator | None) -> tuple[Tensor, dict[str, Tensor]]:
        if self.given is not None and generator is self.generator:
            return self.given
        return super().generate(generator, batch, rng)


class _Maths:
    """Copies of the trainer's networks, optimizers, schedules and EMA, and its objective."""

    def __init__(self, trainer: Any) -> None:
        self.parts, self.cfg, self.device = trainer.parts, trainer.cfg, trainer.device
        self.G = copy.deepcopy(trainer.generator)
        self.D = copy.deepcopy(trainer.discriminator) if trainer.discriminator is not None else None
        t = self.cfg.trainer
        self.opt_g = torch.optim.Adam([p for p in self.G.parameters() if p.requires_grad], lr=t.lr_g,
                                      betas=tuple(t.betas))
        self.opt_d = (torch.optim.Adam(self.D.parameters(), lr=t.lr_d, betas=tuple(t.betas))
                      if self.D is not None else None)
        self.sched_g = lr_scheduler(t, self.opt_g)
        self.sched_d = lr_scheduler(t, self.opt_d) if self.opt_d is not None else None
        self.ema = copy.deepcopy(trainer.ema)
        self.objective = trainer.objective
        self.ctx = _GivenOutput(
            parts=self.parts, objective=self.objective, cfg=self.cfg, device=self.device, generator=self.G,
            discriminator=self.D, discriminator_raw=self.D, augment=copy.deepcopy(trainer.augment),
            g_regularizer=copy.deepcopy(trainer.g_regularizer), perceptual_fn=trainer.perceptual_fn,
            ema_generator=self.ema.model if self.ema is not None else None)

    def start_step(self, step: int) -> torch.Generator:
        """The trainer's randomness of step ``step``: the step RNG, the global RNG seeded."""
        rng = step_generator(self.cfg.seed, step, 0, self.device)
        seed_step(self.cfg.seed, step, 0)
        return rng

    def adversarial_on(self, step: int) -> bool:
        return self.D is not None and self.cfg.loss.adversarial > 0 and step >= self.cfg.trainer.d_warmup_steps

    def d_loss(self, batch: dict[str, Tensor], step: int, rng: torch.Generator) -> Tensor:
        """The objective's D terms (the fake from ``ctx.given`` or generated); ADA follows D."""
        phase = self.objective.discriminator_loss(self.ctx, batch, step, rng)
        augment = self.ctx.augment
        if augment is not None and hasattr(augment, "update") and phase.real_logits is not None:
            augment.update(phase.real_logits.flatten())
        return sum(phase.terms.values())  # type: ignore[return-value]

    def g_loss(self, batch: dict[str, Tensor], step: int, rng: torch.Generator, adversarial_on: bool) -> Tensor:
        return sum(self.objective.generator_loss(self.ctx, batch, step, rng, adversarial_on).terms.values())  # type: ignore[return-value]

    def end_step(self, step: int, adversarial_on: bool) -> None:
        """EMA and learning-rate schedules, as the trainer after each step."""
        if self.ema is not None:
            self.ema.update(self.G, step)
        self.sched_g.step()
        if self.sched_d is not None and adversarial_on:
            self.sched_d.step()


class PlainLoop(_Maths):
    """A hand-written training step with the trainer's maths; ``step(batch, i)``."""

    def step(self, batch: dict[str, Tensor], step: int) -> None:
        rng = self.start_step(step)
        adv_on = self.adversarial_on(step)
        if adv_on:
            assert self.opt_d is not None and self.D is not None
            for _ in range(self.cfg.trainer.d_steps):
                self.opt_d.zero_grad(set_to_none=True)
                self.d_loss(batch, step, rng).backward()
                self.opt_d.step()
        self.opt_g.zero_grad(set_to_none=True)
        if self.D is not None:
            self.D.requires_grad_(False)
        self.g_loss(batch, step, rng, adv_on).backward()
        if self.D is not None:
            self.D.requires_grad_(True)
        self.opt_g.step()
        self.end_step(step, adv_on)


class _RepeatBatch(torch.utils.data.Dataset):
    """``n`` times the same (already collated, already on the device) batch."""

    def __init__(self, batch: dict[str, Tensor], n: int) -> None:
        self.batch, self.n = batch, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return self.batch


def monai_gan_trainer(trainer: Any, batch: dict[str, Tensor], iterations: int) -> tuple[Any, _Maths]:
    """MONAI's ``GanTrainer`` over ``iterations`` copies of ``batch``, with the trainer's maths.

    MONAI generates once for the D steps and once for the G step of each iteration (through
    ``g_inferer``, which calls ``parts.generate`` with the iteration's step RNG); the loss
    functions receive those outputs (no second generator pass). D is frozen while G's loss
    is computed and unfrozen before D's. ``decollate=False`` and ``optim_set_to_none=True``
    are MONAI's fastest settings for training without post-processing. Raises ImportError
    without pytorch-ignite.
    """
    from ignite.engine import Events
    from monai.engines import GanTrainer
    from monai.inferers import Inferer

    maths = _Maths(trainer)
    state: dict[str, Any] = {}

    def begin(engine: Any) -> None:
        step = engine.state.iteration - 1  # Ignite counts from 1
        state.update(step=step, rng=maths.start_step(step), adversarial=maths.adversarial_on(step))

    class TaskInferer(Inferer):
        def __call__(self, inputs: dict[str, Tensor], network: nn.Module, *args: Any, **kwargs: Any) -> Tensor:
            state["output"] = split_generated(maths.parts.generate(network, inputs, state["rng"]))
            return state["output"][0]

    def prepare(batchdata: dict[str, Tensor], device: Any = None, non_blocking: bool = False,
                **kwargs: Any) -> dict[str, Tensor]:
        return batchdata

    def g_prepare(num_latents: Any = None, latent_size: Any = None, device: Any = None,
                  non_blocking: bool = False, **kwargs: Any) -> dict[str, Tensor]:
        return state["engine"].state.batch

    def d_loss(g_output: Tensor, d_input: dict[str, Tensor]) -> Tensor:
        assert maths.D is not None
        maths.D.requires_grad_(True)
        maths.ctx.given = (g_output.detach(), {})
        try:
            return maths.d_loss(d_input, state["step"], state["rng"])
        finally:
            maths.ctx.given = None

    def g_loss(g_output: Tensor) -> Tensor:
        assert maths.D is not None
        maths.D.requires_grad_(False)  # like-for-like: no gradients for D's weights in G's step
        maths.ctx.given = state["output"]
        try:
            return maths.g_loss(state["engine"].state.batch, state["step"], state["rng"], True)
        finally:
            maths.ctx.given = None

    loader = torch.utils.data.DataLoader(_RepeatBatch(batch, iterations), batch_size=None)
    engine = GanTrainer(
        device=trainer.device, max_epochs=1, train_data_loader=loader,
        g_network=maths.G, g_optimizer=maths.opt_g, g_loss_function=g_loss,
        d_network=maths.D, d_optimizer=maths.opt_d, d_loss_function=d_loss,
        g_inferer=TaskInferer(), d_train_steps=trainer.cfg.trainer.d_steps,
        d_prepare_batch=prepare, g_prepare_batch=g_prepare, decollate=False, optim_set_to_none=True,
    )
    state["engine"] = engine
    engine.add_event_handler(Events.ITERATION_STARTED, begin)
    engine.add_event_handler(Events.ITERATION_COMPLETED, lambda _: maths.end_step(state["step"], True))
    return engine, maths


def attach_timer(engine: Any, times: list[float], after: Callable[[int], None], device: torch.device) -> None:
    """Record each iteration's time (ITERATION_STARTED to the handlers of ITERATION_COMPLETED,
    CUDA synchronised at both ends) in ``times``, then call ``after(iteration)`` outside the
    timed span."""
    import time

    from ignite.engine import Events

    marks: dict[str, float] = {}

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def start(_: Any) -> None:
        sync()
        marks["t"] = time.perf_counter()

    def stop(e: Any) -> None:
        sync()
        times.append(time.perf_counter() - marks["t"])
        after(e.state.iteration - 1)

    engine.add_event_handler(Events.ITERATION_STARTED, start)
    engine.add_event_handler(Events.ITERATION_COMPLETED, stop)
