"""Trainer overhead: recon's training step against a plain hand-written PyTorch loop.

Both loops train the same networks (the task's default preset) on the same batch with the
same losses (relativistic adversarial + L1, lazy R1), the same Adam optimizers and the same
EMA update. Steps are timed interleaved (A, B, A, B ...) in one process so machine noise
hits both equally; the script prints the median step times and their ratio.

    python -m benchmarks.trainer_overhead [--task mri_superres] [--steps 30]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def plain_step(G, D, opt_g, opt_d, ema, batch, step, cfg) -> None:  # noqa: ANN001
    """A hand-written SRGAN step with the same maths as recon's phases."""
    lr, hr = batch["input"], batch["target"]
    adv_on = step >= cfg.trainer.d_warmup_steps
    gamma, interval = cfg.loss.r1_gamma, cfg.loss.reg_interval
    if adv_on:
        opt_d.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = G(lr)
        real = hr.detach().requires_grad_(gamma > 0 and step % interval == 0)
        real_logits, fake_logits = D(real), D(fake)
        loss_d = 0.5 * (F.binary_cross_entropy_with_logits(real_logits - fake_logits.mean(), torch.ones_like(real_logits))
                        + F.binary_cross_entropy_with_logits(fake_logits - real_logits.mean(), torch.zeros_like(fake_logits)))
        if real.requires_grad:
            (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
            loss_d = loss_d + grad.pow(2).flatten(1).sum(1).mean() * gamma / 2 * interval
        loss_d.backward()
        opt_d.step()
    opt_g.zero_grad(set_to_none=True)
    D.requires_grad_(False)
    fake = G(lr)
    loss_g = cfg.loss.l1 * F.l1_loss(fake, hr)
    if adv_on:
        fake_logits = D(fake)
        real_logits = D(hr).detach()
        loss_g = loss_g + cfg.loss.adversarial * 0.5 * (
            F.binary_cross_entropy_with_logits(real_logits - fake_logits.mean(), torch.zeros_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits - real_logits.mean(), torch.ones_like(fake_logits)))
    loss_g.backward()
    D.requires_grad_(True)
    opt_g.step()
    with torch.no_grad():
        for pe, p in zip(ema.parameters(), G.parameters()):
            pe.lerp_(p, 1 - cfg.trainer.ema_decay)


def measure(task_name: str = "mri_superres", steps: int = 30, warmup: int = 5, adversarial: bool = True) -> dict:
    """Median step time of recon's trainer and of the plain loop, and their ratio."""
    from recon.config import build_config
    from recon.plugins import get_task
    from recon.train.trainer import Trainer

    torch.set_num_threads(torch.get_num_threads())
    task = get_task(task_name)
    overrides = ["trainer.progress=false", "trainer.grad_clip=0"]
    if adversarial:
        overrides.append("trainer.d_warmup_steps=0")
    cfg = build_config(task, "default", overrides=overrides, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(task, cfg, Path(tmp))
        loader = trainer._loader()
        batch = trainer._to_device(next(loader))
        G, D = copy.deepcopy(trainer.generator), copy.deepcopy(trainer.discriminator)
        t = cfg.trainer
        opt_g = torch.optim.Adam(G.parameters(), lr=t.lr_g, betas=tuple(t.betas))
        opt_d = torch.optim.Adam(D.parameters(), lr=t.lr_d, betas=tuple(t.betas))
        ema = copy.deepcopy(G).requires_grad_(False)
        recon_times, plain_times = [], []
        for i in range(warmup + steps):
            start = time.perf_counter()
            trainer.train_step([batch])
            trainer.step += 1
            middle = time.perf_counter()
            plain_step(G, D, opt_g, opt_d, ema, batch, i, cfg)
            end = time.perf_counter()
            if i >= warmup:
                recon_times.append(middle - start)
                plain_times.append(end - middle)
    recon_ms = statistics.median(recon_times) * 1e3
    plain_ms = statistics.median(plain_times) * 1e3
    return {"task": task_name, "batch_size": cfg.trainer.batch_size, "steps": steps,
            "recon_step_ms": round(recon_ms, 2), "plain_step_ms": round(plain_ms, 2),
            "ratio": round(recon_ms / plain_ms, 4), "target_ratio": 1.05,
            "torch": torch.__version__, "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="mri_superres")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    print(json.dumps(measure(args.task, args.steps), indent=2))


if __name__ == "__main__":
    main()
