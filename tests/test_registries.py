"""Whatever a plugin registers is selectable by config: an adversarial loss (``loss.gan_type``),
a network (``model.g_network`` / ``model.d_network``) and a metric (``eval.metrics``); unknown
or misfitting names are refused before any work with one line and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SMOKE, run_subprocess
from tests.test_plugins import make_distribution

#: a third-party plugin registering one thing of each selectable kind
REGISTERS_ALL = """
from recon.api import hookimpl


@hookimpl
def register_losses(register):
    def factory():
        import torch.nn.functional as F
        from recon.api import AdversarialLoss

        def d_loss(real, fake):  # the non-saturating loss plus 100: visible in metrics.jsonl
            return F.softplus(-real).mean() + F.softplus(fake).mean() + 100.0

        def g_loss(fake, real=None):
            return F.softplus(-fake).mean()

        return AdversarialLoss("offset_ns", d_loss, g_loss)

    register("offset_ns", factory, kind="adversarial", description="non-saturating loss + 100 (test)")


@hookimpl
def register_networks(register):
    def tiny_upsampler(cfg):
        from torch import nn

        class TinyUpsampler(nn.Module):
            def __init__(self, scale):
                super().__init__()
                self.up = nn.Upsample(scale_factor=scale, mode="nearest")
                self.tiny_probe = nn.Conv2d(1, 1, 3, padding=1)

            def forward(self, x):
                up = self.up(x)
                return up + self.tiny_probe(up)

        return TinyUpsampler(cfg.data.scale)

    register("tiny_upsampler", tiny_upsampler, role="generator", tasks=("mri_superres",),
             description="nearest upsampling + one conv (test)")


@hookimpl
def register_metrics(register):
    def factory(convention, scale=0):
        import numpy as np

        def mean_abs_error(target, prediction):
            # the contract: one fastmri unit is a read-only float32 volume (slices, H, W)
            assert convention == "fastmri" and scale == 0
            assert target.shape == prediction.shape and target.ndim == 3
            assert target.dtype == np.float32 and not target.flags.writeable
            return float(np.abs(target - prediction).mean())

        return mean_abs_error

    register("mean_abs_error", factory, description="mean |target - prediction| (test)")
"""

#: registrations no config key could select: refused, the plugin reported, nothing registered
ROLELESS_NETWORK = """
from recon.api import hookimpl


@hookimpl
def register_networks(register):
    register("roleless", lambda cfg: None)
"""
NON_ADVERSARIAL_LOSS = """
from recon.api import hookimpl


@hookimpl
def register_losses(register):
    register("a_perceptual_loss", lambda: None, kind="perceptual")
"""


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("site")
    make_distribution(root, "recon-registers-all", REGISTERS_ALL, "registers_all")
    make_distribution(root, "recon-roleless", ROLELESS_NETWORK, "roleless")
    make_distribution(root, "recon-other-loss", NON_ADVERSARIAL_LOSS, "other_loss")
    return {"PYTHONPATH": str(root)}


def _one_line_error(result, *fragments: str) -> None:
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recon: error: "), result.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_registered_loss_network_and_metric_are_used(plugin_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_subprocess("run", "--task", "mri_superres", *SMOKE, "--out", out,
                            "--set", "loss.gan_type=offset_ns", "--set", "model.g_network=tiny_upsampler",
                            "--set", "eval.metrics=[mean_abs_error]", env=plugin_env)
    assert result.code == 0, result.err

    report = json.loads((out / "eval.json").read_text())
    methods = [report["metrics"]] + [b["metrics"] for b in report["baselines"]]
    assert len(methods) >= 2  # the model and the bicubic baseline
    for metrics in methods:
        assert 0 <= metrics["mean_abs_error"] <= 1
        assert {"psnr", "ssim", "nmse"} <= set(metrics)  # core's metrics are still there
    assert "registers_all" in report["conventions"]["mean_abs_error"]

    import torch

    state = torch.load(out / "checkpoints" / "last.pt", weights_only=True, map_location="cpu")
    assert set(state["nets"]["generator"]) == {"tiny_probe.weight", "tiny_probe.bias"}

    d_losses = [row["d_loss"] for row in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())
                if "d_loss" in row]
    assert d_losses and min(d_losses) >= 100  # the registered loss's D term, not core's

    # recon eval rebuilds the registered generator from the checkpoint's config
    ev = run_subprocess("eval", "--checkpoint", out / "checkpoints" / "last.pt", "--json", "-",
                        "--set", "eval.st_lpips=false", env=plugin_env)
    assert ev.code == 0, ev.err
    again = json.loads(ev.out)
    assert again["metrics"]["mean_abs_error"] == pytest.approx(report["metrics"]["mean_abs_error"], rel=1e-6)


def test_unselectable_registrations_are_refused(plugin_env: dict[str, str]) -> None:
    result = run_subprocess("plugins", "--json", env=plugin_env)
    assert result.code == 0, result.err
    report = {p["name"]: p for p in json.loads(result.out)["plugins"]}
    assert report["registers_all"]["status"] == "ok"
    assert report["registers_all"]["registered"] == {
        "networks": ["tiny_upsampler"], "losses": ["offset_ns"], "metrics": ["mean_abs_error"]}
    for name, fragment in [("roleless", "network 'roleless': role must be 'generator' or 'discriminator'"),
                           ("other_loss", "loss 'a_perceptual_loss': kind='perceptual'")]:
        assert report[name]["status"] == "error" and report[name]["registered"] == {}
        assert fragment in report[name]["error"]
    listed = run_subprocess("list", "--json", env=plugin_env)  # the other commands keep working
    assert listed.code == 0 and "mri_superres" in listed.out


def test_misfitting_registered_network_is_refused(plugin_env: dict[str, str], tmp_path: Path) -> None:
    wrong_task = run_subprocess("run", "--task", "srgan", *SMOKE, "--out", tmp_path / "a",
                                "--set", "model.g_network=tiny_upsampler", env=plugin_env)
    _one_line_error(wrong_task, "model.g_network", "registered for task(s) mri_superres, not srgan",
                    "valid generators: srresnet")
    wrong_role = run_subprocess("run", "--task", "mri_superres", *SMOKE, "--out", tmp_path / "b",
                                "--set", "model.d_network=tiny_upsampler", env=plugin_env)
    _one_line_error(wrong_role, "model.d_network", "is a generator, not a discriminator")
    assert not (tmp_path / "a" / "checkpoints").exists() and not (tmp_path / "b" / "checkpoints").exists()


@pytest.mark.parametrize("override, fragments", [
    ("loss.gan_type=ragn", ("loss.gan_type: unknown adversarial loss 'ragn'", "did you mean 'ragan'",
                            "valid: hinge, lsgan, ns, ragan, wgan-gp")),
    ("model.g_network=srresnett", ("model.g_network: unknown generator network 'srresnett'",
                                   "did you mean 'srresnet'", "valid: srresnet")),
    ("model.d_network=srresnet", ("model.d_network", "'srresnet' is a generator, not a discriminator",
                                  "none registered")),
    ("model.g_network=kspace_cascade", ("registered for task(s) mri_kspace, not mri_superres",)),
    ("eval.metrics=[psnr, ssmi]", ("eval.metrics: unknown metric 'ssmi'", "did you mean 'ssim'",
                                   "valid: brain_change_error, hfen, l1_hole, nmse, psnr, ssim,")),
    ("eval.metrics=[l1_hole]", ("metric 'l1_hole' reads batch key(s) ['mask']",
                                "evaluation data of task mri_superres does not provide")),
])
def test_unknown_names_are_refused_before_any_work(cli, tmp_path: Path, override: str,
                                                   fragments: tuple[str, ...]) -> None:
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", tmp_path / "run", "--set", override)
    _one_line_error(result, *fragments)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_unconditional_task_refuses_eval_metrics(cli, tmp_path: Path) -> None:
    result = cli("run", "--task", "stylegan2", *SMOKE, "--out", tmp_path / "run", "--set", "eval.metrics=[psnr]")
    _one_line_error(result, "eval.metrics", "task stylegan2 is unconditional")


def test_3d_superres_is_scored_by_the_core_loop(plugin_env: dict[str, str], tmp_path: Path) -> None:
    """Volumes go through core's paired evaluation: a registered metric gets each 3D volume as
    one read-only ``(slices, H, W)`` unit, beside PSNR/SSIM/NMSE."""
    out = tmp_path / "run"
    result = run_subprocess("run", "--task", "mri_superres_3d", *SMOKE, "--out", out,
                            "--set", "eval.metrics=[mean_abs_error]", env=plugin_env)
    assert result.code == 0, result.err
    report = json.loads((out / "eval.json").read_text())
    assert report["baseline"]["name"] == "trilinear"
    for metrics in (report["metrics"], report["baseline"]["metrics"]):
        assert set(metrics) == {"psnr", "ssim", "nmse", "mean_abs_error"}
    assert report["conventions"]["st_lpips"] == "not computed for 3D volumes"


def test_builtin_networks_build_what_the_task_builds() -> None:
    """Each built-in registered network is the task's own network for the run's config."""
    from recon.config import build_config
    from recon.plugins import get_task
    from recon.train.networks import setup_parts

    cases = [("mri_superres", "model.g_network=srresnet", "generator"),
             ("mri_kspace", "model.g_network=kspace_cascade", "generator"),
             ("mri_motion", "model.g_network=residual_unet", "generator"),
             ("stylegan2", "model.g_network=stylegan2_generator", "generator"),
             ("stylegan2", "model.d_network=stylegan2_discriminator", "discriminator")]
    for task_name, override, role in cases:
        task = get_task(task_name)
        cfg = build_config(task, "smoke", overrides=[override])
        own = getattr(task.setup(build_config(task, "smoke"), None), role)
        registered = getattr(setup_parts(task, cfg, None), role)
        assert type(registered) is type(own), (task_name, override)
        shapes = {k: tuple(v.shape) for k, v in registered.state_dict().items()}
        assert shapes == {k: tuple(v.shape) for k, v in own.state_dict().items()}, (task_name, override)
    # kspace_varnet is what model.generator=varnet builds
    task = get_task("mri_kspace")
    varnet = setup_parts(task, build_config(task, "smoke", overrides=["model.g_network=kspace_varnet"]), None).generator
    own = task.setup(build_config(task, "smoke", overrides=["model.generator=varnet"]), None).generator
    assert type(varnet) is type(own)
    assert sum(p.numel() for p in varnet.parameters()) == sum(p.numel() for p in own.parameters())
