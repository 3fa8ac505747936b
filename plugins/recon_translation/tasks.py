"""The ``mri_translation`` task: synthesise one MR contrast from another (e.g. T1 -> T2).

pix2pix (Isola et al. 2017): a U-Net generator trained with L1 plus an adversarial loss
against a conditional PatchGAN that sees ``(source, image)`` concatenated. Data: aligned
slices of two contrasts (:mod:`recon_translation.data`). Baselines, fitted on the training
pairs only (:mod:`recon_translation.baselines`): the histogram-matched source (*the*
baseline) and a 1-D intensity lookup. Metrics follow the fastMRI convention (per volume).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from recon.api import ConfigError, DataError
from recon.api import Task
from recon_translation import data as pairs
from recon_translation.baselines import HISTOGRAM, LOOKUP, IntensityModels
from recon_translation.config import TranslationDataConfig, TranslationModelConfig


class TranslationTask(Task):
    name = "mri_translation"
    description = "MR contrast translation (pix2pix U-Net + conditional PatchGAN), vs the histogram-matched source"
    metric_convention = "fastmri"
    channels = 1

    def __init__(self) -> None:
        self._fit_baselines = False  # set by validate(): this task instance is about to train
        self._intensity: IntensityModels | None = None  # the statistics the baselines use now

    def config_sections(self) -> dict[str, type]:
        return {"model": TranslationModelConfig, "data": TranslationDataConfig}

    def presets(self) -> dict[str, dict[str, Any]]:
        from recon_translation.presets import presets

        return presets()

    def validate(self, cfg: Any) -> None:
        from recon.api import builtin_name

        pairs.check_roles(cfg, builtin_name(cfg.data.source))
        m, d = cfg.model, cfg.data
        smallest = 3 * 2**m.d_layers  # the PatchGAN needs at least one output logit
        if d.patch_size < smallest:
            raise ConfigError(f"data.patch_size={d.patch_size} is too small for a PatchGAN with "
                              f"model.d_layers={m.d_layers} (at least {smallest})")
        if d.normalize == "zscore":
            raise ConfigError("data.normalize=zscore: mri_translation needs intensities in [0, 1] "
                              "(use auto, percentile or none)")
        self._fit_baselines = True

    # -- data -----------------------------------------------------------------------------
    def build_dataset(self, cfg: Any, split: str) -> Dataset:
        loaded = pairs.load_pairs(cfg, split)
        if split != "train":
            return pairs.PairEvalDataset(loaded, *pairs.roles(cfg))
        return pairs.train_dataset(cfg, loaded)

    def fit_intensity(self, cfg: Any) -> IntensityModels:
        """The baselines' statistics fitted on the training split (never on val/test)."""
        if not cfg.data.holdout:
            raise DataError("the baselines are fitted on a training split, and data.holdout=false has none; "
                            "evaluate a checkpoint of a run trained with a holdout instead")
        source, target = pairs.roles(cfg)
        train = pairs.load_pairs(cfg, "train")
        return IntensityModels().fit([im[source] for _, im in train], [im[target] for _, im in train])

    # -- networks -------------------------------------------------------------------------
    def build_generator(self, cfg: Any) -> nn.Module:
        from recon_translation.networks import TranslationGenerator, UNetGenerator

        m = cfg.model
        residual = m.output == "lookup_residual"
        unet = UNetGenerator(self.channels, self.channels, m.num_downs, m.channels, m.norm, m.dropout,
                             "raw" if residual else m.output)
        # training: fit the baselines now so every checkpoint carries them; loading a checkpoint
        # (eval, predict) gets them from its weights instead
        if self._fit_baselines:
            self._fit_baselines = False  # once: a compared checkpoint built later brings its own
            self._intensity = self.fit_intensity(cfg)
            return TranslationGenerator(unet, self._intensity, residual)
        return TranslationGenerator(unet, IntensityModels(), residual)

    def build_discriminator(self, cfg: Any) -> nn.Module:
        from recon.api import PatchGANDiscriminator

        m = cfg.model
        return PatchGANDiscriminator(2 * self.channels, m.d_channels, m.d_layers, m.d_norm)

    def discriminator_input(self, cfg: Any, batch: dict[str, Tensor], images: Tensor) -> Tensor:
        """``(N, 2C, H, W)``: the source contrast then the (real or synthetic) target, as pix2pix."""
        return torch.cat([batch["input"].to(images.dtype), images], dim=1)

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, cfg: Any, generator: nn.Module, split: str, device: torch.device,
                 extra_models: dict[str, nn.Module] | None = None) -> dict[str, Any]:
        stored = getattr(generator, "intensity", None)
        if isinstance(stored, IntensityModels) and stored.is_fitted:
            self._intensity = stored
        elif self._intensity is None:
            self._intensity = self.fit_intensity(cfg)
        from recon.api import evaluate_paired

        return evaluate_paired(self, cfg, generator, split, device, extra_models)

    def baselines(self, cfg: Any) -> dict[str, Any]:
        if self._intensity is None:
            self._intensity = self.fit_intensity(cfg)
        models = self._intensity
        return {HISTOGRAM: lambda batch: models.histogram_matched(batch["input"]),
                LOOKUP: lambda batch: models.intensity_lookup(batch["input"])}

    sample_labels = ("source", "histogram-matched", "output", "target")

    def visualize(self, cfg: Any, batch: dict[str, Tensor], fake: Tensor) -> list[Tensor]:
        """source | histogram-matched source | synthetic target | real target."""
        matched = self._intensity.histogram_matched(batch["input"]) if self._intensity is not None else batch["input"]
        return [batch["input"].clamp(0, 1), matched.clamp(0, 1), self.postprocess(fake), batch["target"].clamp(0, 1)]

    def predict_file(self, cfg: Any, generator: nn.Module, input_path: Path, output_path: Path,
                     device: torch.device) -> Path:
        from recon_translation.predict import predict_file

        return predict_file(cfg, generator, input_path, output_path, device)
