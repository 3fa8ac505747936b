"""The ``mri_progression`` task: predict a follow-up brain MRI slice from a baseline scan, the
interval in years and (optionally) the group, on simulated longitudinal data or a CSV manifest.

Generator: a U-Net predicts a stationary velocity field from the baseline (and group) and the
follow-up is the baseline warped by ``exp(t v)`` (:mod:`recon_progression.networks`).
Discriminator: a PatchGAN judging ``(baseline, image, interval, group)``. Content terms: L1 on
the image plus the region/volume terms (:class:`recon_progression.config.ProgressionLossConfig`).
Baselines: no change and the group-mean change (:mod:`recon_progression.baselines`). Metrics:
core's PSNR/SSIM/NMSE/ST-LPIPS (fastMRI convention, one unit per case) and the volumetric
errors of :mod:`recon_progression.metrics`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import ConfigError, Parts, RunConfig, Task, default_content_loss
from recon_progression import data
from recon_progression.config import ProgressionDataConfig, ProgressionLossConfig, ProgressionModelConfig

METRICS = ("ventricle_change_error", "brain_change_error")


class ProgressionTask(Task):
    name = "mri_progression"
    description = ("disease-progression simulation: follow-up MRI from a baseline, an interval and a group "
                   "(velocity-field U-Net + conditional PatchGAN), vs no change and the group-mean change")
    metric_convention = "fastmri"
    channels = 1
    benchmark = {"preset": "default", "seed": 0, "sweep": [0, 0.005, 0.02, 0.1]}

    def config_sections(self) -> dict[str, type]:
        return {"model": ProgressionModelConfig, "data": ProgressionDataConfig, "loss": ProgressionLossConfig}

    def presets(self) -> dict[str, dict[str, Any]]:
        from recon_progression.presets import presets

        return presets()

    def validate(self, cfg: RunConfig) -> None:
        d = cfg.data
        if d.patch_size != 0:
            raise ConfigError(f"data.patch_size={d.patch_size}: mri_progression trains on whole slices "
                              "(the deformation is global); leave data.patch_size=0")
        if d.gap != 8:
            raise ConfigError("data.gap: mri_progression splits by subject (no slab gap); leave it unset")
        if str(d.source) != data.SIMULATED and not str(d.source).lower().endswith(".csv"):
            raise ConfigError(f"data.source={d.source}: mri_progression reads 'simulated' or a CSV manifest "
                              "(subject, baseline, followup, years[, group])")

    # -- data -----------------------------------------------------------------------------
    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        return data.build(cfg, split)

    # -- what is trained --------------------------------------------------------------------
    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        from recon.api import PatchGANDiscriminator
        from recon_progression.baselines import baselines
        from recon_progression.networks import ProgressionGenerator, conditional_input

        m = cfg.model
        generator = ProgressionGenerator(m.channels, m.levels, m.smooth, m.use_group, m.half_resolution)
        return Parts(generator=generator,
                     discriminator=PatchGANDiscriminator(6, m.d_channels, m.d_layers, m.d_norm),
                     generate=generate, stochastic_generate=False,
                     discriminator_input=conditional_input(float(cfg.data.max_years)),
                     content_loss=content_loss(cfg),
                     baselines=baselines(cfg),
                     metrics=METRICS,
                     visualize=visualize,
                     sample_labels=("baseline", "output", "target", "predicted change", "true change"))

    # -- inference --------------------------------------------------------------------------
    def predict_file(self, cfg: RunConfig, parts: Parts, input_path: Path, output_path: Path,
                     device: torch.device, years: Sequence[float] | None = None, group: str | None = None,
                     force: bool = False) -> Path:
        """``recon predict --years T[,T...] [--group G]``: the follow-up(s) of a baseline scan
        (:func:`recon_progression.predict.predict_followups`; ``force``: replace existing series files)."""
        from recon_progression.predict import predict_followups

        return predict_followups(cfg, parts, input_path, output_path, device, years, group, force)


def generate(generator: torch.nn.Module, batch: dict[str, Tensor], rng: Any = None) -> Any:
    """``G(baseline, years, group)`` -> ``(follow-up, {"velocity", "field"})``."""
    return generator(batch["input"], batch["years"], batch["group"])


def content_loss(cfg: RunConfig):  # noqa: ANN201 - Parts.content_loss
    """Core's L1/L2/perceptual terms, plus the ventricle and brain volume-change terms: the
    baseline's soft maps (``batch["maps"]``) warped by the predicted field, summed, against the
    target's volumes (``batch["volumes"]``), relative to the baseline's."""
    from recon_progression.warp import warp

    core = default_content_loss(cfg)

    def terms(batch: dict[str, Tensor], fake: Tensor, perceptual_fn: Any = None) -> dict[str, Tensor]:
        out = core(batch, fake, perceptual_fn)
        loss = cfg.loss
        if "field" in batch and (loss.volume > 0 or loss.brain_volume > 0):
            maps = batch["maps"].to(fake)
            predicted = warp(maps, batch["field"].to(fake)).sum(dim=(2, 3))
            base = maps.sum(dim=(2, 3)).clamp_min(1.0)
            error = (predicted - batch["volumes"].to(fake)).abs() / base  # (N, 2)
            out["volume"] = loss.volume * error[:, 0].mean()
            out["brain_volume"] = loss.brain_volume * error[:, 1].mean()
        return out

    return terms


def visualize(batch: dict[str, Tensor], fake: Tensor) -> list[Tensor]:
    """baseline | output | target | predicted change | true change (0.5 = none, x2.5)."""
    base = batch["input"]
    return [base.clamp(0, 1), fake.clamp(0, 1), batch["target"].clamp(0, 1),
            (0.5 + 2.5 * (fake - base)).clamp(0, 1), (0.5 + 2.5 * (batch["target"] - base)).clamp(0, 1)]
