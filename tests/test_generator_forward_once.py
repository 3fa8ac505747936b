"""One forward of G per adversarial step (recon.train.shared_forward) trains exactly like two.

For every task the smoke networks train a few steps (a warm-up step without D, then
adversarial steps) with ``trainer.reuse_fake`` on and off from the same weights: G, D and the
EMA end identical, and so does the global RNG. G runs once per adversarial step where the
forward is shared (twice with the switch off), and twice whatever the switch where it is not:
a generator with BatchNorm (mri_translation), latents drawn from the step RNG (stylegan2,
progan) or a plugin objective that generates in its own phases (CycleGAN, progan); and the
forward watched during the step is not handed over when it changed state after all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from recon.losses.objective import GANObjective, takes_generated
from recon.train.shared_forward import forward_changes_state

STEPS = 4  # step 0 is D's warm-up (G alone), steps 1.. are adversarial
SHARED = ["mri_superres", "srgan", "mri_kspace", "mri_motion", "inpainting", "mri_progression", "mri_superres_3d"]
# BatchNorm in G; latents from the step RNG; objectives that generate in their own phases
NOT_SHARED = ["mri_translation", "stylegan2", "progan", "mri_translation_unpaired"]


def _trainer(task_name: str, run_dir: Path, *overrides: str) -> Any:
    """The smoke networks and data with the task's default loss section (as the loops' test),
    D on from step 1."""
    from recon.config import build_config
    from recon.plugins import get_task
    from recon.train.trainer import Trainer

    task = get_task(task_name)
    cfg = build_config(task, "smoke", overrides=["trainer.progress=false", "trainer.d_warmup_steps=1",
                                                 "trainer.ema_decay=0.9", "trainer.max_steps=8", *overrides],
                       device="cpu")
    cfg.sections["loss"] = build_config(task, "default").sections["loss"]
    torch.manual_seed(0)
    return Trainer(task, cfg, run_dir)


def _differ(a: nn.Module, b: nn.Module) -> list[str]:
    """Names of the parameters and buffers that differ."""
    theirs = dict(b.state_dict())
    return [name for name, value in a.state_dict().items() if not _equal(value, theirs[name])]


def _equal(a: Any, b: Any) -> bool:
    """Tensors equal exactly, nested dicts entry by entry, anything else by ``==``."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _train(trainer: Any, steps: int) -> tuple[list[int], torch.Tensor]:
    """G forwards of each step (a hook on the trained generator) and the global RNG's state after."""
    calls = [0]
    handle = trainer.generator.register_forward_hook(lambda *args: calls.__setitem__(0, calls[0] + 1))
    micro = [trainer.to_device(b) for b, _ in zip(trainer.batch_iterator(), range(trainer.cfg.trainer.grad_accum),
                                                   strict=False)]
    per_step = []
    try:
        for step in range(steps):
            trainer.step, calls[0] = step, 0
            logs = trainer.train_step(micro)
            assert not logs["nonfinite"]
            per_step.append(calls[0])
    finally:
        handle.remove()
    return per_step, torch.get_rng_state()


def _run_both(task_name: str, tmp_path: Path, *overrides: str) -> tuple[Any, list[int], Any, list[int]]:
    """The trainers and G forwards per step with ``trainer.reuse_fake`` on and off, after checking
    that they end with identical networks and global RNG."""
    on = _trainer(task_name, tmp_path / "on", *overrides)
    off = _trainer(task_name, tmp_path / "off", "trainer.reuse_fake=false", *overrides)
    assert _differ(on.generator, off.generator) == [], "not the same initial weights"
    calls_on, rng_on = _train(on, STEPS)
    calls_off, rng_off = _train(off, STEPS)
    assert _differ(on.generator, off.generator) == [], "generator differs"
    if on.discriminator is not None:
        assert _differ(on.discriminator, off.discriminator) == [], "discriminator differs"
    if on.ema is not None:
        assert _differ(on.ema.model, off.ema.model) == [], "EMA differs"
    if on.augment is not None:
        assert _differ(on.augment, off.augment) == [], "augmentation state differs"
    assert torch.equal(rng_on, rng_off), "the global RNG drew differently"
    return on, calls_on, off, calls_off


@pytest.mark.parametrize("task_name", SHARED)
def test_one_forward_per_adversarial_step_trains_exactly_like_two(task_name: str, tmp_path: Path) -> None:
    _, calls_on, _, calls_off = _run_both(task_name, tmp_path)
    assert calls_on == [1] * STEPS  # the warm-up step generates once anyway
    assert calls_off == [1] + [2] * (STEPS - 1)


@pytest.mark.parametrize("task_name", NOT_SHARED)
def test_tasks_whose_forward_cannot_be_shared_generate_in_each_phase(task_name: str, tmp_path: Path) -> None:
    _, calls_on, _, calls_off = _run_both(task_name, tmp_path)
    assert calls_on == calls_off
    assert calls_on[1] >= 2


@pytest.mark.parametrize(("task_name", "check"), [("mri_translation", "forward_changes_state"),
                                                ("stylegan2", "draws_at_random")])
def test_a_forward_that_changed_state_is_not_handed_over(task_name: str, check: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With the check before the step blinded, the watched forward still finds BatchNorm's
    running statistics moved (mri_translation) or latents drawn from the step RNG (stylegan2),
    and the G phase generates again: the two-forward step, exactly."""
    import recon.train.shared_forward as shared_forward

    monkeypatch.setattr(shared_forward, check, lambda *args: [] if check == "forward_changes_state" else False)
    _, calls_on, _, calls_off = _run_both(task_name, tmp_path)
    assert calls_on == calls_off


def test_several_d_updates_share_the_last_ones_forward(tmp_path: Path) -> None:
    _, calls_on, _, calls_off = _run_both("srgan", tmp_path, "trainer.d_steps=2")
    assert calls_on == [1] + [2] * (STEPS - 1)
    assert calls_off == [1] + [3] * (STEPS - 1)


def test_gradient_accumulation_keeps_a_forward_per_phase(tmp_path: Path) -> None:
    _, calls_on, _, calls_off = _run_both("mri_superres", tmp_path, "trainer.grad_accum=2")
    assert calls_on == calls_off == [2] + [4] * (STEPS - 1)


def test_generators_whose_forward_changes_state_are_found() -> None:
    conv = nn.Conv2d(1, 1, 3)
    assert forward_changes_state(nn.Sequential(conv, nn.ReLU(), nn.Dropout(0.0))) == []
    assert forward_changes_state(nn.Sequential(conv, nn.BatchNorm2d(1))) == ["1"]
    assert forward_changes_state(nn.Sequential(conv, nn.InstanceNorm2d(1))) == []
    assert forward_changes_state(nn.Sequential(conv, nn.InstanceNorm2d(1, track_running_stats=True))) == ["1"]
    assert forward_changes_state(nn.Sequential(conv, nn.Dropout2d(0.5))) == ["1"]
    assert forward_changes_state(nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(1, 1, 3)))) == ["0"]
    assert forward_changes_state(nn.Sequential(nn.utils.parametrizations.spectral_norm(nn.Conv2d(1, 1, 3))))[0] == "0"
    assert forward_changes_state(nn.Sequential(conv, nn.BatchNorm2d(1)).eval()) == []  # no update in eval mode


def test_plugin_objectives_that_generate_in_their_own_phases_are_not_handed_an_output() -> None:
    from recon.losses.selection import adversarial_loss
    from recon_progan.objective import ProGANObjective
    from recon_stylegan2.objective import ConditionalObjective
    from recon_translation.cycle_objective import CycleObjective

    loss = adversarial_loss("ns")
    assert takes_generated(GANObjective(loss))
    assert takes_generated(ConditionalObjective(loss))  # only D's call differs
    assert not takes_generated(ProGANObjective(loss))
    assert not takes_generated(CycleObjective(loss))
