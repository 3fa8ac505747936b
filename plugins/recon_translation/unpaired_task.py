"""The ``mri_translation_unpaired`` task: contrast translation learned from unpaired images (CycleGAN).

Zhu et al. 2017, *Unpaired image-to-image translation using cycle-consistent adversarial
networks*: two generators (A -> B, B -> A) and two PatchGANs trained with LSGAN, cycle
consistency and identity terms (:mod:`recon_translation.cycle_objective`). Training images of
the two domains come from disjoint slabs / subjects / folders (:mod:`recon_translation.unpaired_data`);
evaluation is ``mri_translation``'s: aligned test pairs it never trained on, per volume in the
fastMRI convention, so the two tasks' figures are comparable.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor
from torch.utils.data import Dataset

from recon.api import ConfigError, DataError, Parts, RunConfig
from recon_translation import unpaired_data
from recon_translation.tasks import TranslationTask
from recon_translation.unpaired_baselines import HISTOGRAM, LOOKUP_ORACLE, QUANTILE, UnpairedIntensity
from recon_translation.unpaired_config import CycleLossConfig, UnpairedDataConfig, UnpairedModelConfig

#: loss keys that compare with an aligned target, refused when non-zero
_PAIRED_LOSSES = ("l1", "l2", "perceptual", "artifact")


class UnpairedTranslationTask(TranslationTask):
    name = "mri_translation_unpaired"
    description = ("unpaired MR contrast translation, e.g. T1 -> T2 (CycleGAN: two generators, two PatchGANs, "
                   "cycle + identity losses), vs the histogram-matched source")
    #: the default preset once; no non-adversarial twin (cycle terms alone are solved by the identity map)
    benchmark = {"non_adversarial": False}

    def config_sections(self) -> dict[str, type]:
        return {"model": UnpairedModelConfig, "data": UnpairedDataConfig, "loss": CycleLossConfig}

    def presets(self) -> dict[str, dict[str, Any]]:
        from recon_translation.unpaired_presets import presets

        return presets()

    def validate(self, cfg: RunConfig) -> None:
        super().validate(cfg)
        unpaired_data.check_folders(cfg)
        loss, m = cfg.loss, cfg.model
        for key in _PAIRED_LOSSES:
            if getattr(loss, key) > 0:
                raise ConfigError(f"loss.{key}={getattr(loss, key)}: unpaired training has no aligned target to "
                                  f"compare with; the reconstruction term is loss.cycle (and loss.identity)")
        if loss.r1_gamma > 0 or loss.gan_type == "wgan-gp":
            raise ConfigError(f"{'loss.r1_gamma' if loss.r1_gamma > 0 else 'loss.gan_type=wgan-gp'}: "
                              "mri_translation_unpaired trains without D gradient penalties (CycleGAN: lsgan)")
        for key in ("g_network", "d_network"):
            if getattr(m, key):
                raise ConfigError(f"model.{key}={getattr(m, key)}: mri_translation_unpaired trains a pair of "
                                  "networks per role (CycleGAN); choose them with model.generator")
        if getattr(m, "d_arch", "patch") != "patch":  # the paired task's section offers a VGG-style D
            raise ConfigError(f"model.d_arch={m.d_arch}: mri_translation_unpaired's discriminators are "
                              "PatchGANs (CycleGAN); use model.d_channels, d_layers, d_norm")

    # -- data -----------------------------------------------------------------------------
    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        """Training: unaligned A and B patches; val/test: ``mri_translation``'s aligned slices."""
        if split != "train":
            return super().build_dataset(cfg, split)
        return unpaired_data.train_dataset(cfg, *unpaired_data.training_domains(cfg))

    def fit_intensity(self, cfg: RunConfig) -> UnpairedIntensity:
        """Domain B's quantiles (no pairs) and, where the training data are pairs, the oracle lookup."""
        if not cfg.data.holdout and not cfg.data.domain_a.strip():
            raise DataError("the baselines are fitted on a training split, and data.holdout=false has none; "
                            "evaluate a checkpoint of a run trained with a holdout instead")
        domain_a, domain_b = unpaired_data.training_domains(cfg)
        a_images, b_images = [im for _, im, _ in domain_a], [im for _, im, _ in domain_b]
        options = {"polarity": cfg.model.quantile_polarity, "seed": cfg.seed, "floor": cfg.model.quantile_floor}
        if cfg.data.domain_a.strip():
            return UnpairedIntensity().fit_unpaired(a_images, b_images, **options)
        from recon_translation import data as pairs

        source, target = pairs.roles(cfg)
        train = pairs.load_pairs(cfg, "train")
        return UnpairedIntensity().fit_unpaired(a_images, b_images, [im[source] for _, im in train],
                                                [im[target] for _, im in train], **options)

    # -- what is trained -----------------------------------------------------------------
    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        """CycleGAN's two generators (in one module: A -> B when called on one batch) and two
        PatchGANs, the cycle objective, the histogram-matched source and the oracle lookup."""
        from recon_translation.cycle_objective import CycleObjective
        from recon_translation.cyclegan import build_cyclegan

        fitted = self.fit_intensity(cfg) if train_data is not None else UnpairedIntensity()
        generator, discriminator = build_cyclegan(cfg.model, fitted, self.channels)
        parts = Parts(generator=generator, discriminator=discriminator,
                      objective=CycleObjective.from_config(cfg.loss),
                      sample_labels=("source", "histogram-matched", "output", "target"),
                      restore_intensity=False)  # predictions are the target contrast, in [0, 1]
        cache: dict[str, UnpairedIntensity] = {}

        def models() -> UnpairedIntensity:
            stored = getattr(parts.generator, "intensity", None)
            if isinstance(stored, UnpairedIntensity) and stored.is_fitted:
                return stored
            if "fallback" not in cache:
                cache["fallback"] = self.fit_intensity(cfg)
            return cache["fallback"]

        parts.baselines = {HISTOGRAM: lambda batch: models().histogram_matched(batch["input"]),
                           QUANTILE: lambda batch: models().quantile_map(batch["input"])}
        if train_data is not None and fitted.has_oracle or train_data is None and not cfg.data.domain_a.strip():
            parts.baselines[LOOKUP_ORACLE] = lambda batch: models().intensity_lookup(batch["input"])

        def visualize(batch: dict[str, Tensor], fake: Tensor) -> list[Tensor]:
            """source | histogram-matched source | synthetic target | real target."""
            matched = models().histogram_matched(batch["input"])
            return [batch["input"].clamp(0, 1), matched.clamp(0, 1), fake.clamp(0, 1), batch["target"].clamp(0, 1)]
        parts.visualize = visualize
        return parts
