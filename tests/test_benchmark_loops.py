"""The speed suite's comparison loops do the trainer's maths: after the same steps on the same
batch, recon's Trainer, the plain loop and MONAI's GanTrainer hold identical weights, for every
task's default loss settings (stylegan2's lazy R1 / path-length intervals included), and so does
the BasicSR-structured SRGAN loop for the super-resolution tasks (R1 due at step 0 included)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

STEPS = 5  # stylegan2's default: R1 every 16 D steps, path length every 4 G steps (both due at 0, G at 4)
TASKS = ["mri_superres", "srgan", "mri_kspace", "mri_motion", "mri_translation", "inpainting", "stylegan2"]


def _trainer(task_name: str, run_dir: Path):  # noqa: ANN202 - a recon Trainer
    """The smoke networks and data with the task's *default* loss section, D on from step 0."""
    from recon.config import build_config
    from recon.plugins import get_task
    from recon.train.trainer import Trainer

    task = get_task(task_name)
    cfg = build_config(task, "smoke", overrides=["trainer.progress=false", "trainer.d_warmup_steps=0",
                                                 "trainer.ema_decay=0.9", "trainer.lr_schedule=cosine",
                                                 "trainer.max_steps=8"], device="cpu")
    cfg.sections["loss"] = build_config(task, "default").sections["loss"]
    return Trainer(task, cfg, run_dir)


def _same(a: torch.nn.Module, b: torch.nn.Module) -> list[str]:
    """Names of the parameters and buffers that differ."""
    theirs = dict(b.state_dict())
    return [name for name, value in a.state_dict().items() if not torch.equal(value, theirs[name])]


@pytest.mark.parametrize("task_name", TASKS)
def test_plain_loop_and_monai_train_exactly_like_the_trainer(task_name: str, tmp_path: Path) -> None:
    pytest.importorskip("ignite")
    from benchmarks.loops import PlainLoop, monai_gan_trainer

    torch.manual_seed(0)
    trainer = _trainer(task_name, tmp_path)
    batch = trainer.to_device(next(trainer.batch_iterator()))
    plain = PlainLoop(trainer)
    engine, monai = monai_gan_trainer(trainer, batch, STEPS)
    for step in range(STEPS):
        trainer.step = step
        trainer.train_step([batch])
        plain.step(batch, step)
    engine.run()
    for name, loop in (("plain", plain), ("monai", monai)):
        assert _same(trainer.generator, loop.G) == [], f"{name}: generator differs"
        assert _same(trainer.discriminator, loop.D) == [], f"{name}: discriminator differs"
        if trainer.ema is not None:
            assert _same(trainer.ema.model, loop.ema.model) == [], f"{name}: EMA differs"
    if trainer.augment is not None and hasattr(trainer.augment, "p"):
        assert float(trainer.augment.p) == float(plain.ctx.augment.p) == float(monai.ctx.augment.p)


@pytest.mark.parametrize("task_name", ["srgan", "mri_superres"])
def test_basicsr_loop_trains_exactly_like_the_trainer(task_name: str, tmp_path: Path) -> None:
    from benchmarks.basicsr_loop import BasicSRLoop

    torch.manual_seed(0)
    trainer = _trainer(task_name, tmp_path)
    batch = trainer.to_device(next(trainer.batch_iterator()))
    loop = BasicSRLoop(trainer)
    for step in range(STEPS):
        trainer.step = step
        trainer.train_step([batch])
        loop.feed_data(batch)
        loop.optimize_parameters(step + 1)  # BasicSR counts iterations from 1
    assert _same(trainer.generator, loop.G) == [], "generator differs"
    assert _same(trainer.discriminator, loop.D) == [], "discriminator differs"
    assert _same(trainer.ema.model, loop.ema.model) == [], "EMA differs"


def test_basicsr_loop_refuses_what_the_srgan_step_has_no_place_for(tmp_path: Path) -> None:
    from benchmarks.basicsr_loop import basicsr_status

    assert basicsr_status(_trainer("srgan", tmp_path / "a")) == "ok"
    status = basicsr_status(_trainer("stylegan2", tmp_path / "b"))
    assert status.startswith("skipped: BasicSR's SRGAN step does not fit task stylegan2")
