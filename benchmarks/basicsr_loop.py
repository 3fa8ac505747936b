"""A third loop for the speed suite: the SRGAN training step as BasicSR's ``SRGANModel`` structures it.

BasicSR (XPixelGroup/BasicSR, ``basicsr/models/srgan_model.py`` and its relativistic
subclass ``esrgan_model.py``) trains a GAN super-resolution model with one method,
``optimize_parameters(current_iter)``. This module re-writes that method's structure around
recon's networks and maths (basicsr 1.4.2 builds, but ``import basicsr`` fails on torchvision
>= 0.17, which removed ``torchvision.transforms.functional_tensor``; no BasicSR code is used):

- **one generator forward per iteration**: ``self.output = net_g(lq)`` is computed once and
  serves both the generator step (with its graph) and the discriminator step (detached);
  recon's trainer runs G again in each phase.
- **G step**: D frozen by setting ``requires_grad = False`` on each of its parameters; pixel
  (and perceptual) terms plus the GAN term (``l_g_total``), one backward, one Adam step; only
  when ``current_iter % net_d_iters == 0 and current_iter > net_d_init_iters``.
- **D step**: D's parameters unfrozen; the loss backpropagated in two halves, real then fake,
  each with its own backward pass. Each half is the run's full adversarial D loss with the
  other side's logits detached (a relativistic loss such as recon's ``ragan``, ESRGANModel's,
  needs both sides), so the two backward passes give exactly the joint loss's gradients. The
  lazy R1 term (recon's default, not in BasicSR's SRGAN) is due every ``loss.reg_interval``
  steps; on those steps halves and penalty share one backward (see :meth:`BasicSRLoop._optimize_d`). ESRGANModel
  runs D on the fake images twice (once detached for the real half); here the fake logits
  are computed once and detached for the real half, since a third forward would move D's
  BatchNorm running statistics once more than recon's step does (and cost this loop time).

One deliberate difference, so that the loop trains exactly recon's maths and the comparison
is about the loop: BasicSR updates G first and then D on G's pre-update output (both steps
see the other network's previous weights); recon alternates D then G (stylegan2-ada's order).
Here the D step comes first, on the iteration's output, and the G step second, through the
updated D. The networks, losses (the run's objective: content terms, adversarial loss, lazy
R1, D's augmentation with the same random draws in the same order), Adam settings, EMA and
learning-rate schedules are the trainer's (:class:`benchmarks.loops._Maths`), so after the
same iterations the weights are the trainer's (``tests/test_benchmark_loops.py``).
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from benchmarks.loops import _Maths
from recon.losses.objective import GANObjective, augmented
from recon.losses.regularizers import r1_penalty


class BasicSRLoop(_Maths):
    """``loop.feed_data(batch); loop.optimize_parameters(current_iter)`` (``current_iter`` from 1,
    BasicSR's count; recon's step is ``current_iter - 1``).

    Args:
        trainer: the recon Trainer whose networks, objective and settings are copied.
        net_d_iters, net_d_init_iters: BasicSR's ``train.net_d_iters`` (G steps every that
            many iterations) and ``train.net_d_init_iters`` (no G step before that iteration).

    Raises:
        ValueError: a task or setting the SRGAN step has no place for (no discriminator, a
        custom objective, a generator regularizer, LDL's artifact term, the gradient penalty,
        ``trainer.d_steps != 1``, ``trainer.d_warmup_steps > 0``).
    """

    def __init__(self, trainer: Any, net_d_iters: int = 1, net_d_init_iters: int = 0) -> None:
        super().__init__(trainer)
        obj, cfg = self.objective, self.cfg
        problems = [what for what, bad in (
            ("no discriminator", self.D is None), ("a custom objective", not isinstance(obj, GANObjective)),
            ("a generator regularizer", self.ctx.g_regularizer is not None),
            ("LDL's artifact term", getattr(obj, "artifact", 0) > 0),
            ("the gradient penalty", getattr(getattr(obj, "loss", None), "gradient_penalty", False)),
            ("trainer.d_steps != 1", cfg.trainer.d_steps != 1),
            ("trainer.d_warmup_steps > 0", cfg.trainer.d_warmup_steps > 0)) if bad]
        if problems:
            raise ValueError(f"BasicSR's SRGAN step does not fit task {trainer.task.name}: {', '.join(problems)}")
        self.net_d_iters, self.net_d_init_iters = max(1, net_d_iters), net_d_init_iters
        self.batch: dict[str, Tensor] = {}

    def feed_data(self, batch: dict[str, Tensor]) -> None:
        """BasicSR's ``feed_data``: the iteration's batch (already on the device)."""
        self.batch = batch

    def optimize_parameters(self, current_iter: int) -> None:
        """One iteration: the generator forward, the D step, the G step, EMA and schedules."""
        step = current_iter - 1
        rng = self.start_step(step)
        with self.ctx.autocast():
            self.output, self.aux = self.ctx.generate(self.G, self.batch, rng)  # once, with its graph
        self._optimize_d(step)
        if current_iter % self.net_d_iters == 0 and current_iter > self.net_d_init_iters:
            self._optimize_g()
        self.end_step(step, True)

    def step(self, batch: dict[str, Tensor], step: int) -> None:
        """The speed suite's interface: ``feed_data`` then ``optimize_parameters(step + 1)``."""
        self.feed_data(batch)
        self.optimize_parameters(step + 1)

    def _judge(self, images: Tensor, real: bool) -> Tensor:
        assert self.D is not None  # checked in __init__
        return self.objective.judge(self.D, images, self.batch, self.aux, real=real)  # type: ignore[attr-defined]

    def _optimize_d(self, step: int) -> None:
        obj, parts, ctx = self.objective, self.parts, self.ctx
        assert self.D is not None and self.opt_d is not None  # checked in __init__
        use_r1, _ = obj.regularized(step)  # type: ignore[attr-defined]
        for p in self.D.parameters():
            p.requires_grad = True
        self.opt_d.zero_grad(set_to_none=True)
        real = parts.real_images(self.batch).detach()
        if use_r1:
            real = real.requires_grad_(True)
        real_in = augmented(ctx, parts.discriminator_input(self.batch, real))
        fake_in = augmented(ctx, parts.discriminator_input(self.batch, self.output.detach()))
        with ctx.autocast(enabled=not use_r1):  # R1 differentiates this pass: fp32
            real_d_pred = self._judge(real_in, real=True)
        with ctx.autocast():
            fake_d_pred = self._judge(fake_in, real=False)
        if use_r1:
            # recon's lazy R1 (not in BasicSR's SRGAN): its double-backward graph shares D's pass on
            # the real images, so on these steps the halves and the penalty go through one backward
            # (gradients of three separate passes would be summed in another order than recon's)
            r1 = r1_penalty(real_d_pred, real) * (obj.r1_gamma / 2) * obj.reg_interval  # type: ignore[attr-defined]
            (obj.loss.d_loss(real_d_pred.float(), fake_d_pred.float()) + r1).backward()  # type: ignore[attr-defined]
        else:
            # real half: D's logits on the fake images as a constant
            l_d_real = obj.loss.d_loss(real_d_pred.float(), fake_d_pred.detach().float())  # type: ignore[attr-defined]
            l_d_real.backward()
            # fake half: the real logits as a constant
            l_d_fake = obj.loss.d_loss(real_d_pred.detach().float(), fake_d_pred.float())  # type: ignore[attr-defined]
            l_d_fake.backward()
        self.opt_d.step()
        augment = ctx.augment
        if augment is not None and hasattr(augment, "update"):
            augment.update(real_d_pred.detach().flatten())

    def _optimize_g(self) -> None:
        obj, parts, ctx = self.objective, self.parts, self.ctx
        assert self.D is not None  # checked in __init__
        for p in self.D.parameters():
            p.requires_grad = False
        self.opt_g.zero_grad(set_to_none=True)
        batch = {**self.batch, **self.aux} if self.aux else self.batch
        terms = parts.content_loss(batch, self.output.float(), ctx.perceptual_fn)  # pixel (and perceptual) terms
        if obj.adversarial > 0:  # type: ignore[attr-defined]
            with ctx.autocast():
                fake_g_pred = self._judge(augmented(ctx, parts.discriminator_input(self.batch, self.output)),
                                          real=False)
                real_d_pred = None
                if obj.loss.needs_real_in_g:  # type: ignore[attr-defined]
                    real_in = augmented(ctx, parts.discriminator_input(self.batch, parts.real_images(self.batch)))
                    real_d_pred = self._judge(real_in, real=True).detach().float()
            terms["g_adv"] = obj.adversarial * obj.loss.g_loss(fake_g_pred.float(), real_d_pred)  # type: ignore[attr-defined]
        l_g_total: Tensor = sum(terms.values())  # type: ignore[assignment]
        l_g_total.backward()
        self.opt_g.step()
        for p in self.D.parameters():
            p.requires_grad = True


def basicsr_status(trainer: Any) -> str:
    """``"ok"``, or why the BasicSR loop does not apply to ``trainer``'s task and settings."""
    try:
        BasicSRLoop(trainer)
    except ValueError as exc:
        return f"skipped: {exc}"
    return "ok"


__all__ = ["BasicSRLoop", "basicsr_status"]
