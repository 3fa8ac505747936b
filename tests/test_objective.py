"""The GAN objective is the task's to choose: a task's ``Parts.objective`` replaces the default,
and the default reproduces the adversarial losses selected by ``loss.gan_type``."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
import torch

from recon import hookimpl
from recon.api import GANObjective, Parts, PhaseLoss
from recon_superres.tasks import MRISuperResTask

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false", "--set", "trainer.max_steps=4",
         "--set", "trainer.d_warmup_steps=1", "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0",
         "--set", "eval.max_images=1", "--set", "eval.st_lpips=false"]


class FeatureMatching(GANObjective):
    """G also matches D's mean logit on reals (a toy feature-matching term), logged as ``fm``."""

    calls = {"d": 0, "g": 0}

    def discriminator_loss(self, ctx, batch, step, rng):  # noqa: ANN001, ANN201
        FeatureMatching.calls["d"] += 1
        return super().discriminator_loss(ctx, batch, step, rng)

    def generator_loss(self, ctx, batch, step, rng, adversarial_on):  # noqa: ANN001, ANN201
        FeatureMatching.calls["g"] += 1
        phase = super().generator_loss(ctx, batch, step, rng, adversarial_on)
        fake, _ = ctx.generate(ctx.generator, batch, rng)
        D = ctx.discriminator_raw
        gap = (D(fake).mean() - D(batch["target"]).mean().detach()) ** 2
        return PhaseLoss({**phase.terms, "fm": 0.1 * gap}, phase.logs)


class FeatureMatchingTask(MRISuperResTask):
    name = "fm_probe"

    def setup(self, cfg, train_data):  # noqa: ANN001, ANN201
        parts = super().setup(cfg, train_data)
        parts.objective = FeatureMatching.from_config(cfg.loss)
        return parts


class NotParts(MRISuperResTask):
    name = "not_parts"

    def setup(self, cfg, train_data):  # noqa: ANN001, ANN201
        return {"generator": torch.nn.Identity()}


@pytest.fixture
def probe_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    import recon.plugins as plugins

    module = types.ModuleType("objective_probe")

    @hookimpl
    def register_tasks(register):  # noqa: ANN001, ANN202
        register("fm_probe", FeatureMatchingTask, description="feature matching objective")
        register("not_parts", NotParts, description="setup returns a dict")

    module.register_tasks = register_tasks
    system = plugins.PluginSystem()
    system.load_entry_points()
    system.add_plugin(module, "objective_probe")
    monkeypatch.setattr(plugins, "_SYSTEM", system)


def test_a_task_objective_replaces_the_default(probe_tasks: None, cli, tmp_path: Path) -> None:
    FeatureMatching.calls.update(d=0, g=0)
    result = cli("run", "--task", "fm_probe", *SMOKE, "--out", tmp_path / "run")
    assert result.code == 0, result.err
    assert FeatureMatching.calls == {"d": 3, "g": 4}  # D from step 1 (warm-up 1), G every step
    logs = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    steps = [row for row in logs if "g_loss" in row]
    assert len(steps) == 4 and all(row["fm"] >= 0 for row in steps)
    # the default's terms are still there: content from step 1, the adversarial game after the warm-up
    assert all("l1" in row for row in steps) and ["g_adv" in row and "d_loss" in row for row in steps] == [
        False, True, True, True]


def test_setup_must_return_parts(probe_tasks: None, cli, tmp_path: Path) -> None:
    result = cli("run", "--task", "not_parts", *SMOKE, "--out", tmp_path / "run")
    assert result.code != 0 and "Traceback" not in result.err
    assert "setup() returned a dict, not recon.api.Parts" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_default_objective_is_the_configured_loss() -> None:
    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task("mri_superres")
    cfg = build_config(task, "default")
    objective = GANObjective.from_config(cfg.loss)
    assert objective.loss.name == "ragan" and objective.adversarial == cfg.loss.adversarial
    assert objective.regularized(0) == (True, False) and objective.regularized(1) == (cfg.loss.reg_interval == 1, False)
    assert isinstance(task.setup(cfg, None), Parts) and task.setup(cfg, None).objective is None
