"""The ``mri_translation`` task: synthesise one MR contrast from another (e.g. T1 -> T2).

pix2pix (Isola et al. 2017): a U-Net generator trained with L1 plus an adversarial loss
against a conditional PatchGAN that sees ``(source, image)`` concatenated. Data: aligned
slices of two contrasts (:mod:`recon_translation.data`). Baselines, fitted on the training
pairs only (:mod:`recon_translation.baselines`): the histogram-matched source (*the*
baseline) and a 1-D intensity lookup. Metrics follow the fastMRI convention (per volume).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import ConfigError, DataError
from recon.api import Parts, Task
from recon_translation import data as pairs
from recon_translation.baselines import HISTOGRAM, LOOKUP, IntensityModels
from recon_translation.config import TranslationDataConfig, TranslationModelConfig


class TranslationTask(Task):
    name = "mri_translation"
    description = "MR contrast translation (pix2pix U-Net + conditional PatchGAN), vs the histogram-matched source"
    metric_convention = "fastmri"
    channels = 1

    def config_sections(self) -> dict[str, type]:
        return {"model": TranslationModelConfig, "data": TranslationDataConfig}

    def presets(self) -> dict[str, dict[str, Any]]:
        from recon_translation.presets import presets

        return presets()

    def validate(self, cfg: RunConfig) -> None:
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

    # -- data -----------------------------------------------------------------------------
    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        loaded = pairs.load_pairs(cfg, split)
        if split != "train":  # whole aligned slices: {"input": source, "target": target, "volume"}
            from recon.api import MeasurementSlices

            source, target = pairs.roles(cfg)
            stacks = tuple((vid, np.concatenate([images[source], images[target]])) for vid, images in loaded)
            return MeasurementSlices(stacks, pairs.split_pair(self.channels))
        return pairs.train_dataset(cfg, loaded)

    def fit_intensity(self, cfg: RunConfig) -> IntensityModels:
        """The baselines' statistics fitted on the training split (never on val/test)."""
        if not cfg.data.holdout:
            raise DataError("the baselines are fitted on a training split, and data.holdout=false has none; "
                            "evaluate a checkpoint of a run trained with a holdout instead")
        source, target = pairs.roles(cfg)
        train = pairs.load_pairs(cfg, "train")
        return IntensityModels().fit([im[source] for _, im in train], [im[target] for _, im in train])

    # -- what is trained -----------------------------------------------------------------
    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        """The U-Net (with the baselines' intensity statistics in its buffers) against a conditional
        PatchGAN that sees ``(source, image)``; the histogram-matched source and the intensity lookup
        as baselines.

        The fit-on-train step: when a run is about to train (``train_data`` given), the intensity
        statistics are fitted on the training split's whole slices and stored in the generator,
        so every checkpoint carries them; a loaded checkpoint (``train_data=None``) brings its own.
        """
        from recon.api import PatchGANDiscriminator, VGGStyleDiscriminator
        from recon_translation.networks import TranslationGenerator, UNetGenerator

        m = cfg.model
        residual = m.output == "lookup_residual"
        unet = UNetGenerator(self.channels, self.channels, m.num_downs, m.channels, m.norm, m.dropout,
                             "raw" if residual else m.output)
        fitted = self.fit_intensity(cfg) if train_data is not None else IntensityModels()
        generator = TranslationGenerator(unet, fitted, residual)
        discriminator = (VGGStyleDiscriminator(2 * self.channels, m.d_channels, m.d_layers, m.d_norm, m.d_fc)
                         if m.d_arch == "vgg" else PatchGANDiscriminator(2 * self.channels, m.d_channels, m.d_layers,
                                                                         m.d_norm))
        parts = Parts(generator=generator,
                      discriminator=discriminator,
                      discriminator_input=source_and_image,
                      sample_labels=("source", "histogram-matched", "output", "target"),
                      restore_intensity=False)  # predictions are the target contrast, in [0, 1]
        cache: dict[str, IntensityModels] = {}

        def models() -> IntensityModels:
            """The statistics the generator carries (fitted here or loaded with its weights); for a
            checkpoint without them, fitted once on its run's training split."""
            stored = getattr(parts.generator, "intensity", None)
            if isinstance(stored, IntensityModels) and stored.is_fitted:
                return stored
            if "fallback" not in cache:
                cache["fallback"] = self.fit_intensity(cfg)
            return cache["fallback"]

        parts.baselines = {HISTOGRAM: lambda batch: models().histogram_matched(batch["input"]),
                           LOOKUP: lambda batch: models().intensity_lookup(batch["input"])}

        def visualize(batch: dict[str, Tensor], fake: Tensor) -> list[Tensor]:
            """source | histogram-matched source | synthetic target | real target."""
            matched = models().histogram_matched(batch["input"])
            return [batch["input"].clamp(0, 1), matched.clamp(0, 1), fake.clamp(0, 1), batch["target"].clamp(0, 1)]
        parts.visualize = visualize
        return parts


def source_and_image(batch: dict[str, Tensor], images: Tensor) -> Tensor:
    """``(N, 2C, H, W)``: the source contrast then the (real or synthetic) target, as pix2pix."""
    return torch.cat([batch["input"].to(images.dtype), images], dim=1)
