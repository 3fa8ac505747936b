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
        if cfg.data.labels and not cfg.data.class_names and cfg.data.labels == "contrast":
            from recon_stylegan2.data import class_names

            cfg.data.class_names = class_names(cfg)

    # -- data -------------------------------------------------------------------------------
    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        from recon.api import ImageList, ImageSamples
        from recon_stylegan2.data import split_labelled

        images, labels = split_labelled(cfg, split)
        if labels is not None:
            return LabelledImages(images, labels, cfg.seed, cfg.data.augment, train=split == "train",
                                  limit=cfg.eval.max_images)
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

        if cfg.data.labels and not cfg.data.class_names:
            from recon_stylegan2.data import class_names

            cfg.data.class_names = class_names(cfg)  # kept in the checkpoint's config
        objective = None
        if num_classes(cfg) > 0:
            from recon_stylegan2.objective import ConditionalObjective

            objective = ConditionalObjective.from_config(cfg.loss)

        def visualize(batch: dict[str, Tensor], fake: Tensor) -> list[Tensor]:
            """Grid columns: generated samples (top row) above real images of the split (bottom row)."""
            return sampling.sample_panels(sampling.to_unit(fake), batch["target"])

        return Parts(generator=generator(cfg), discriminator=discriminator(cfg), generate=generate,
                     real_images=to_generator_range, content_loss=no_content_terms,
                     generator_regularizer=path_length(cfg), augment=ada(cfg), baselines={},
                     postprocess=sampling.to_unit, visualize=visualize, sample_labels=(), objective=objective,
                     sampler=sampling.sample_batch,
                     sample_baselines={"gaussian": gaussian_samples, "training images": training_images})

    # -- inference --------------------------------------------------------------------------
    def predict_file(self, cfg: RunConfig, parts: Parts, input_path: Path, output_path: Path,
                     device: torch.device) -> Path:
        raise UsageError("stylegan2 is unconditional: use `recon generate --checkpoint CK -n N -o DIR`")

    def sample_file(self, cfg: RunConfig, parts: Parts, n: int, out_dir: Path, device: torch.device,
                    seed: int = 0, label: str | None = None) -> list[Path]:
        """Write ``n`` PNGs ``000000.png ...`` to ``out_dir``: image ``i`` depends only on (seed, i)
        (with ``model.noise_mode=const``), truncation ``model.truncation_psi``. A conditional
        model draws class ``i % classes`` for image ``i``, or class ``label`` (a name of
        ``data.class_names``) for every image."""
        names = list(cfg.data.class_names) if cfg.data.labels else []
        index = None
        if label is not None:
            if not names:
                raise UsageError(f"--label {label}: this checkpoint is unconditional (data.labels is empty)")
            if label not in names:
                raise UsageError(f"--label {label}: unknown class; valid: {', '.join(names)}")
            index = names.index(label)
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
                                                m.truncation_psi, m.truncation_cutoff, m.noise_mode, index):
            paths += sampling.write_pngs(images, out_dir, start=len(paths))
        return paths


def num_classes(cfg: RunConfig) -> int:
    """``c_dim`` of the networks: the number of classes of ``data.labels`` (0: unconditional)."""
    return len(cfg.data.class_names) if cfg.data.labels else 0


class LabelledImages(Dataset):
    """Images with class labels: training item ``i`` as :class:`recon.api.ImageSamples` draws it
    from ``(seed, i)`` (``{"target", "label"}``), evaluation items every image once
    (``{"target", "volume", "label"}``, the first ``limit`` when set)."""

    def __init__(self, images: Tensor, labels: Tensor, seed: int, augment: str, train: bool, limit: int = 0):
        from recon.api import ImageList, ImageSamples

        if not train and limit:  # a spread of the classes, not the first class's images
            keep = torch.linspace(0, images.shape[0] - 1, min(limit, images.shape[0])).round().long()
            images, labels = images[keep], labels[keep]
        self.labels, self.train = labels, train
        self.images: Dataset = ImageSamples(images, seed, augment) if train else ImageList(images)
        self.count, self.seed = int(images.shape[0]), seed

    def __len__(self) -> int:
        return len(self.images)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        from recon.api import sample_generator

        item = dict(self.images[index])
        if self.train:  # the image ImageSamples drew: its first draw from the item's generator
            which = int(torch.randint(0, self.count, (1,), generator=sample_generator(self.seed, index)))
        else:
            which = index
        item["label"] = self.labels[which]
        return item


def generator(cfg: RunConfig) -> nn.Module:
    """StyleGAN2's mapping + synthesis network (config E/F) of the ``model`` section."""
    from recon_stylegan2.networks import Generator

    m = cfg.model
    return Generator(resolution=m.resolution, num_channels=cfg.data.channels, z_dim=m.z_dim, w_dim=m.w_dim,
                     c_dim=num_classes(cfg),
                     mapping_layers=m.mapping_layers, mapping_lr_multiplier=m.mapping_lr_multiplier,
                     channel_base=m.channel_base, channel_max=m.channel_max,
                     style_mixing_prob=m.style_mixing_prob, use_noise=m.use_noise)


def discriminator(cfg: RunConfig) -> nn.Module:
    """StyleGAN2's residual discriminator with minibatch standard deviation."""
    from recon_stylegan2.networks import Discriminator

    m = cfg.model
    return Discriminator(resolution=m.resolution, num_channels=cfg.data.channels, c_dim=num_classes(cfg),
                         channel_base=m.channel_base, channel_max=m.channel_max,
                         mbstd_group_size=m.mbstd_group_size)


def generate(generator: nn.Module, batch: dict[str, Tensor], rng: torch.Generator | None = None,
             truncation_psi: float = 1.0) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
    """``G(z)`` for ``z ~ N(0, I)`` of the batch's size, drawn from ``rng`` (the step RNG).

    Returns ``(N, C, R, R)`` in G's [-1, 1] range (not clamped). Training always uses
    ``truncation_psi=1``. The noise inputs, style mixing, ADA's draws and the path-length
    latents use torch's global RNG, which the trainer seeds from (seed, step, rank) at the
    start of every step.

    A conditional generator (``c_dim > 0``) gets a class per sample drawn uniformly from
    ``rng`` after the latents; it returns ``(images, {"c": one-hot labels})`` so the
    discriminator sees the labels the fakes were drawn with.
    """
    ref = batch["target"]
    G = cast("Generator", sampling.unwrap(generator))
    device = rng.device if rng is not None else ref.device
    z = torch.randn(ref.shape[0], G.z_dim, generator=rng, device=device).to(ref.device)
    c_dim = int(getattr(G, "c_dim", 0))
    if c_dim <= 0:
        return generator(z, truncation_psi=truncation_psi)
    classes = torch.randint(0, c_dim, (ref.shape[0],), generator=rng, device=device).to(ref.device)
    c = sampling.one_hot(classes, c_dim)
    return generator(z, c, truncation_psi=truncation_psi), {"c": c}


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
