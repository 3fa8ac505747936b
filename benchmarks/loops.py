"""The two loops recon's trainer is timed against, with the same networks, losses and batch.

- :class:`PlainLoop`: a hand-written PyTorch step, the maths of ``recon.train.phases``
  without its bookkeeping (no phases, NaN checks, loss scaler, autocast, DDP hooks or
  per-term logging): discriminator update (adversarial loss + lazy R1/GP), generator update
  (the task's content terms + the adversarial term + its lazy G regularizer), EMA.
- :func:`monai_gan_trainer`: MONAI's ``GanTrainer`` (an Ignite engine) with the same
  networks, optimizers and loss functions (R1 and EMA added as a loss term and an Ignite
  handler), so the comparison is about the training loop, not the maths.

Both copy the trainer's networks (same initial weights) and build their own Adam
optimizers with the trainer's hyper-parameters. The loss functions are recon's own pure
functions (``recon.losses``) and the task's parts (``content_loss``, ``generate`` ...):
the point is to time the loop around them.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
from torch import Tensor, nn

from recon.losses import ADVERSARIAL_LOSSES, gradient_penalty, r1_penalty
from recon.task import split_generated
from recon.train.runtime import step_generator


class _Maths:
    """The per-step loss maths shared by the plain loop and the MONAI loss functions."""

    def __init__(self, trainer: Any) -> None:
        self.parts, self.cfg, self.device = trainer.parts, trainer.cfg, trainer.device
        self.G = copy.deepcopy(trainer.generator)
        self.D = copy.deepcopy(trainer.discriminator) if trainer.discriminator is not None else None
        t = self.cfg.trainer
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=t.lr_g, betas=tuple(t.betas))
        self.opt_d = (torch.optim.Adam(self.D.parameters(), lr=t.lr_d, betas=tuple(t.betas))
                      if self.D is not None else None)
        self.ema = copy.deepcopy(self.G).eval().requires_grad_(False) if t.ema_decay > 0 else None
        self.augment = copy.deepcopy(trainer.augment)
        self.g_reg = copy.deepcopy(trainer.g_regularizer)
        self.perceptual_fn = trainer.perceptual_fn
        self.adv = ADVERSARIAL_LOSSES[self.cfg.loss.gan_type]

    def rng(self, step: int) -> torch.Generator:
        return step_generator(self.cfg.seed, step, 0, self.device)

    def adversarial_on(self, step: int) -> bool:
        return self.D is not None and self.cfg.loss.adversarial > 0 and step >= self.cfg.trainer.d_warmup_steps

    def _aug(self, images: Tensor) -> Tensor:
        return self.augment(images) if self.augment is not None else images

    def d_loss(self, batch: dict[str, Tensor], fake: Tensor, step: int, rng: torch.Generator) -> Tensor:
        """Adversarial D loss on real and ``fake`` (detached here), plus lazy R1/GP."""
        loss_cfg, parts, D = self.cfg.loss, self.parts, self.D
        reg_due = step % max(1, loss_cfg.reg_interval) == 0
        real = parts.real_images(batch).detach().requires_grad_(reg_due and loss_cfg.r1_gamma > 0)
        real_in = self._aug(parts.discriminator_input(batch, real))
        fake_in = self._aug(parts.discriminator_input(batch, fake.detach()))
        real_logits, fake_logits = D(real_in), D(fake_in)
        loss = self.adv.d_loss(real_logits, fake_logits)
        if real.requires_grad:
            loss = loss + r1_penalty(real_logits, real) * (loss_cfg.r1_gamma / 2) * loss_cfg.reg_interval
        if reg_due and self.adv.gradient_penalty and loss_cfg.gp_weight > 0:
            loss = loss + (gradient_penalty(D, real_in, fake_in, generator=rng)
                           * loss_cfg.gp_weight * loss_cfg.reg_interval)
        if self.augment is not None and hasattr(self.augment, "update"):
            self.augment.update(real_logits.detach().flatten())
        return loss

    def g_loss(self, batch: dict[str, Tensor], fake: Tensor, step: int, adversarial_on: bool) -> Tensor:
        """Content terms + adversarial G term + the lazy generator regularizer."""
        loss_cfg, parts = self.cfg.loss, self.parts
        terms = parts.content_loss(batch, fake, self.perceptual_fn)
        if adversarial_on:
            fake_logits = self.D(self._aug(parts.discriminator_input(batch, fake)))
            real_logits = None
            if self.adv.needs_real_in_g:
                real_in = self._aug(parts.discriminator_input(batch, parts.real_images(batch)))
                real_logits = self.D(real_in).detach()
            terms["g_adv"] = loss_cfg.adversarial * self.adv.g_loss(fake_logits, real_logits)
        if self.g_reg is not None and step % max(1, loss_cfg.reg_interval) == 0:
            terms["g_reg"] = self.g_reg(self.G, batch) * loss_cfg.reg_interval
        return sum(terms.values()) if terms else fake.sum() * 0

    @torch.no_grad()
    def ema_update(self) -> None:
        if self.ema is None:
            return
        decay = self.cfg.trainer.ema_decay
        for pe, p in zip(self.ema.parameters(), self.G.parameters(), strict=True):
            pe.lerp_(p, 1 - decay)
        for be, b in zip(self.ema.buffers(), self.G.buffers(), strict=True):
            be.copy_(b)


class PlainLoop(_Maths):
    """A hand-written training step with the trainer's maths; ``step(batch, i)``."""

    def step(self, batch: dict[str, Tensor], step: int) -> None:
        rng = self.rng(step)
        adv_on = self.adversarial_on(step)
        if adv_on:
            for _ in range(self.cfg.trainer.d_steps):
                self.opt_d.zero_grad(set_to_none=True)
                with torch.no_grad():
                    fake, _ = split_generated(self.parts.generate(self.G, batch, rng))
                self.d_loss(batch, fake, step, rng).backward()
                self.opt_d.step()
        self.opt_g.zero_grad(set_to_none=True)
        if self.D is not None:
            self.D.requires_grad_(False)
        fake, aux = split_generated(self.parts.generate(self.G, batch, rng))
        self.g_loss({**batch, **aux}, fake, step, adv_on).backward()
        if self.D is not None:
            self.D.requires_grad_(True)
        self.opt_g.step()
        self.ema_update()


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

    Conditional generators get the batch through ``g_prepare_batch`` (MONAI's hook for the
    generator's input) and a ``g_inferer`` that calls ``parts.generate``. MONAI runs the first
    generator forward of each iteration with autograd on (its design); we keep that.
    ``decollate=False`` and ``optim_set_to_none=True`` are MONAI's fastest settings for
    training without post-processing. Raises ImportError without pytorch-ignite.
    """
    from ignite.engine import Events
    from monai.engines import GanTrainer
    from monai.inferers import Inferer

    maths = _Maths(trainer)
    holder: dict[str, Any] = {}

    def step() -> int:
        return holder["engine"].state.iteration - 1  # Ignite counts from 1

    class TaskInferer(Inferer):
        def __call__(self, inputs: dict[str, Tensor], network: nn.Module, *args: Any, **kwargs: Any) -> Tensor:
            return split_generated(maths.parts.generate(network, inputs, maths.rng(step())))[0]

    def prepare(batchdata: dict[str, Tensor], device: Any = None, non_blocking: bool = False,
                **kwargs: Any) -> dict[str, Tensor]:
        return batchdata

    def g_prepare(num_latents: Any = None, latent_size: Any = None, device: Any = None,
                  non_blocking: bool = False, **kwargs: Any) -> dict[str, Tensor]:
        return holder["engine"].state.batch

    def d_loss(g_output: Tensor, d_input: dict[str, Tensor]) -> Tensor:
        return maths.d_loss(d_input, g_output, step(), maths.rng(step()))

    def g_loss(g_output: Tensor) -> Tensor:
        return maths.g_loss(holder["engine"].state.batch, g_output, step(), True)

    loader = torch.utils.data.DataLoader(_RepeatBatch(batch, iterations), batch_size=None)
    engine = GanTrainer(
        device=trainer.device, max_epochs=1, train_data_loader=loader,
        g_network=maths.G, g_optimizer=maths.opt_g, g_loss_function=g_loss,
        d_network=maths.D, d_optimizer=maths.opt_d, d_loss_function=d_loss,
        g_inferer=TaskInferer(), d_train_steps=trainer.cfg.trainer.d_steps,
        d_prepare_batch=prepare, g_prepare_batch=g_prepare, decollate=False, optim_set_to_none=True,
    )
    holder["engine"] = engine
    engine.add_event_handler(Events.ITERATION_COMPLETED, lambda _: maths.ema_update())
    return engine, maths


def attach_timer(engine: Any, times: list[float], after: Callable[[int], None]) -> None:
    """Record each iteration's time (ITERATION_STARTED to the handlers of ITERATION_COMPLETED)
    in ``times``, then call ``after(iteration)`` outside the timed span."""
    import time

    from ignite.engine import Events

    marks: dict[str, float] = {}
    engine.add_event_handler(Events.ITERATION_STARTED, lambda _: marks.__setitem__("t", time.perf_counter()))

    def stop(e: Any) -> None:
        times.append(time.perf_counter() - marks["t"])
        after(e.state.iteration - 1)

    engine.add_event_handler(Events.ITERATION_COMPLETED, stop)
