"""The unconditional ``stylegan2`` task: StyleGAN2 (config E/F) with ADA, on the core trainer.

What the core trainer does with it, per step (see docs/stylegan2.md):

* D phase: ``fake = G(z)`` with ``z ~ N(0, I)`` drawn from the step RNG (:func:`generate`);
  ``D(ada(real))`` vs ``D(ada(fake))`` with the non-saturating logistic loss (``loss.gan_type
  = ns``); every ``loss.reg_interval`` steps R1 on the un-augmented reals, weighted
  ``r1_gamma / 2 * reg_interval`` by the core; ADA's ``p`` follows ``E[sign(D(real))]``.
* G phase: ``softplus(-D(ada(G(z))))`` (no reconstruction terms: :func:`no_content_terms`),
  plus on due steps the path length penalty (:func:`path_length`) times
  ``g_reg_interval``: ``pl_weight * mean (a - pl_mean)^2 * interval``, StyleGAN2's ``G_reg``.
* EMA of G's weights (``trainer.ema_decay``), used for samples and evaluation.

Range: data sources give [0, 1]; the generator and discriminator work in [-1, 1]
(:func:`to_generator_range` maps ``x -> 2x - 1``); samples, PNGs and metrics map back with
``(x + 1) / 2``, clamped (``sampling.to_unit``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, cast

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import UsageError
from recon.api import Parts, Task
from recon_stylegan2 import sampling
from recon_stylegan2.config import (AdaConfig, SG2DataConfig, SG2EvalConfig, SG2LossConfig, SG2ModelConfig,
                                    check_config)

if TYPE_CHECKING:
    from recon_stylegan2.networks import Generator


class StyleGAN2Task(Task):
    """StyleGAN2 trained from noise on one image collection, scored with FID/KID."""

    name = "stylegan2"
    description = "unconditional StyleGAN2 (mapping net, demodulation, skip G / residual D) with ADA, R1, path length"
    unconditional = True

    # -- configuration ----------------------------------------------------------------------
    def config_sections(self) -> dict[str, type]:
        return {"model": SG2ModelConfig, "data": SG2DataConfig, "loss": SG2LossConfig,
                "eval": SG2EvalConfig, "ada": AdaConfig}

    def presets(self) -> dict[str, dict[str, Any]]:
        from recon_stylegan2.presets import presets

        return presets()

    def validate(self, cfg: RunConfig) -> None:
        check_config(cfg)

    # -- data -------------------------------------------------------------------------------
    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        from recon.api import ImageList, ImageSamples
        from recon_stylegan2.data import split_images

        images = split_images(cfg, split)
        if split == "train":
            return ImageSamples(images, cfg.seed, cfg.data.augment)
        return ImageList(images[:cfg.eval.max_images] if cfg.eval.max_images else images)

    # -- what is trained -------------------------------------------------------------------
    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        """StyleGAN2's generator and residual discriminator, the non-saturating loss alone for G
        (no content terms), path length on G and ADA on D's inputs when enabled; scored by
        FID/KID of its samples against the split's reals, beside a Gaussian fitted to the
        training images and the training images themselves (:mod:`recon_stylegan2.baseline`)."""
        from recon_stylegan2.baseline import gaussian_samples, training_images

        def visualize(batch: dict[str, Tensor], fake: Tensor) -> list[Tensor]:
            """Grid columns: generated samples (top row) above real images of the split (bottom row)."""
            return sampling.sample_panels(sampling.to_unit(fake), batch["target"])

        return Parts(generator=generator(cfg), discriminator=discriminator(cfg), generate=generate,
                     real_images=to_generator_range, content_loss=no_content_terms,
                     generator_regularizer=path_length(cfg), augment=ada(cfg), baselines={},
                     postprocess=sampling.to_unit, visualize=visualize, sample_labels=(),
                     sampler=sampling.sample_batch,
                     sample_baselines={"gaussian": gaussian_samples, "training images": training_images})

    # -- inference --------------------------------------------------------------------------
    def predict_file(self, cfg: RunConfig, parts: Parts, input_path: Path, output_path: Path,
                     device: torch.device) -> Path:
        raise UsageError("stylegan2 is unconditional: use `recon generate --checkpoint CK -n N -o DIR`")

    def sample_file(self, cfg: RunConfig, parts: Parts, n: int, out_dir: Path, device: torch.device,
                    seed: int = 0) -> list[Path]:
        """Write ``n`` PNGs ``000000.png ...`` to ``out_dir``: image ``i`` depends only on (seed, i)
        (with ``model.noise_mode=const``), truncation ``model.truncation_psi``."""
        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise UsageError(f"-o {out_dir}: is a file, not a folder")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"-o {out_dir}: cannot create the folder ({exc.strerror or exc})") from None
        m = cfg.model
        paths: list[Path] = []
        for images in sampling.generate_samples(parts.generator, n, seed, device, max(1, cfg.eval.batch_size),
                                                m.truncation_psi, m.truncation_cutoff, m.noise_mode):
            paths += sampling.write_pngs(images, out_dir, start=len(paths))
        return paths


def generator(cfg: RunConfig) -> nn.Module:
    """StyleGAN2's mapping + synthesis network (config E/F) of the ``model`` section."""
    from recon_stylegan2.networks import Generator

    m = cfg.model
    return Generator(resolution=m.resolution, num_channels=cfg.data.channels, z_dim=m.z_dim, w_dim=m.w_dim,
                     mapping_layers=m.mapping_layers, mapping_lr_multiplier=m.mapping_lr_multiplier,
                     channel_base=m.channel_base, channel_max=m.channel_max,
                     style_mixing_prob=m.style_mixing_prob, use_noise=m.use_noise)


def discriminator(cfg: RunConfig) -> nn.Module:
    """StyleGAN2's residual discriminator with minibatch standard deviation."""
    from recon_stylegan2.networks import Discriminator

    m = cfg.model
    return Discriminator(resolution=m.resolution, num_channels=cfg.data.channels,
                         channel_base=m.channel_base, channel_max=m.channel_max,
                         mbstd_group_size=m.mbstd_group_size)


def generate(generator: nn.Module, batch: dict[str, Tensor], rng: torch.Generator | None = None,
             truncation_psi: float = 1.0) -> Tensor:
    """``G(z)`` for ``z ~ N(0, I)`` of the batch's size, drawn from ``rng`` (the step RNG).

    Returns ``(N, C, R, R)`` in G's [-1, 1] range (not clamped). Training always uses
    ``truncation_psi=1``. The noise inputs, style mixing, ADA's draws and the path-length
    latents use torch's global RNG, which the trainer seeds from (seed, step, rank) at the
    start of every step.
    """
    ref = batch["target"]
    z_dim = cast("Generator", sampling.unwrap(generator)).z_dim
    device = rng.device if rng is not None else ref.device
    z = torch.randn(ref.shape[0], z_dim, generator=rng, device=device).to(ref.device)
    return generator(z, truncation_psi=truncation_psi)


def to_generator_range(batch: dict[str, Tensor]) -> Tensor:
    """The real samples D sees: the data (``[0, 1]``) in G's and D's range ``[-1, 1]``."""
    return batch["target"] * 2.0 - 1.0


def no_content_terms(batch: dict[str, Tensor], fake: Tensor, perceptual_fn: Callable | None = None) -> dict:
    """No reconstruction terms: the generator is trained by the adversarial loss alone."""
    return {}


def path_length(cfg: RunConfig) -> nn.Module | None:
    """Path length regularization (``loss.pl_weight``; the trainer multiplies by ``g_reg_interval``)."""
    from recon_stylegan2.regularizers import PathLengthRegularizer

    loss = cfg.loss
    if loss.pl_weight <= 0:
        return None
    return PathLengthRegularizer(loss.pl_weight, loss.pl_decay, loss.pl_batch_shrink)


def ada(cfg: RunConfig) -> nn.Module | None:
    """ADA on D's inputs (``ada.*``), in the [-1, 1] range D sees."""
    if not cfg.ada.enabled:
        return None
    from recon.api import AdaptiveAugment

    a = cfg.ada
    return AdaptiveAugment(p=a.p, target=a.target, interval=a.interval, speed_kimg=a.speed_kimg,
                           p_max=a.p_max, preset=a.preset, value_range=(-1.0, 1.0))
