"""The unconditional ``progan`` task: progressive growing of GANs (Karras et al. 2018) on the core trainer.

Per step (see docs/progan.md): the stage (resolution, fade-in ``alpha``) is a pure function of
the global step (:mod:`recon_progan.schedule`), set on the networks by the objective
(:class:`recon_progan.objective.ProGANObjective`); the reals are box-filtered to the stage's
resolution and faded like the fakes; D minimises WGAN-GP + drift, G ``-E[D(G(z))]``; core's EMA
of G is sampled and evaluated.

Range: data in [0, 1]; the networks work in [-1, 1] (``x -> 2x - 1``); samples, files and metrics
map back with ``(x + 1) / 2``, clamped (:func:`recon_progan.sampling.to_unit`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from recon.api import Parts, RunConfig, Task, UsageError
from recon_progan import sampling
from recon_progan.config import PGDataConfig, PGEvalConfig, PGLossConfig, PGModelConfig, check_config

__all__ = ["ProGANTask", "discriminator", "generate", "generator"]

EVAL_CROPS = 200  # 3D: evaluation crops per split when eval.max_images is 0


class ProGANTask(Task):
    """ProGAN trained from noise on one image (2D) or volume (3D) collection, scored with FID/KID."""

    name = "progan"
    description = "unconditional progressive GAN (fade-in growing, minibatch stddev, equalized lr, pixel norm), 2D/3D"
    unconditional = True
    benchmark = [{"label": "progan", "preset": "default", "non_adversarial": False},
                 {"label": "progan_3d", "preset": "3d", "smoke_preset": "smoke3d", "non_adversarial": False}]

    # -- configuration ----------------------------------------------------------------------
    def config_sections(self) -> dict[str, type]:
        return {"model": PGModelConfig, "data": PGDataConfig, "loss": PGLossConfig, "eval": PGEvalConfig}

    def presets(self) -> dict[str, dict[str, Any]]:
        from recon_progan.presets import presets

        return presets()

    def validate(self, cfg: RunConfig) -> None:
        check_config(cfg)

    # -- data -------------------------------------------------------------------------------
    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        """Training: ``{"target": (C, R, R[, R])}`` items drawn from ``(seed, i)``; evaluation: every
        image once, 3D crops as montages of their central slices ``(C, R, 3R)`` (what FID sees)."""
        from recon.api import ImageList, ImageSamples
        from recon_progan import data

        limit = cfg.eval.max_images
        if cfg.model.spatial_dims == 3:
            if split == "train":
                return data.VolumeCrops(data.split_volumes(cfg, "train"), cfg.model.resolution, cfg.seed,
                                        cfg.data.crop_min_foreground, cfg.data.augment == "xflip")
            return ImageList(data.montage(data.fixed_crops(cfg, split, limit or EVAL_CROPS)))
        images = data.split_images(cfg, split)
        if split == "train":
            return ImageSamples(images, cfg.seed, cfg.data.augment)
        return ImageList(images[:limit] if limit else images)

    # -- what is trained -------------------------------------------------------------------
    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        """The growing generator and critic, the progressive objective, no content terms; scored
        by FID/KID of EMA samples beside a Gaussian fitted to the training images and the
        training images themselves (:mod:`recon_progan.baseline`)."""
        from recon_progan.baseline import gaussian_samples, training_images
        from recon_progan.objective import ProGANObjective
        from recon_progan.schedule import levels_for

        m, loss = cfg.model, cfg.loss
        base = ProGANObjective.from_config(loss)
        objective = ProGANObjective(base.loss, adversarial=base.adversarial, r1_gamma=base.r1_gamma,
                                    gp_weight=base.gp_weight, reg_interval=base.reg_interval,
                                    g_reg_interval=base.g_reg_interval,
                                    levels=levels_for(m.start_resolution, m.resolution),
                                    start_resolution=m.start_resolution, phase_steps=m.phase_steps, drift=loss.drift)

        def visualize(batch: dict[str, Tensor], fake: Tensor) -> list[Tensor]:
            """Grid columns: a sample (top) above a real image of the split (bottom)."""
            return sample_panels(scored_view(fake, m.resolution), batch["target"])

        return Parts(generator=generator(cfg), discriminator=discriminator(cfg), generate=generate,
                     real_images=to_network_range, content_loss=no_content_terms, objective=objective,
                     baselines={}, postprocess=sampling.to_unit, visualize=visualize, sample_labels=(),
                     sampler=sampling.sample_batch,
                     sample_baselines={"gaussian": gaussian_samples, "training images": training_images})

    # -- inference --------------------------------------------------------------------------
    def predict_file(self, cfg: RunConfig, parts: Parts, input_path: Path, output_path: Path,
                     device: torch.device) -> Path:
        raise UsageError("progan is unconditional: use `recon generate --checkpoint CK -n N -o DIR`")

    def sample_file(self, cfg: RunConfig, parts: Parts, n: int, out_dir: Path, device: torch.device,
                    seed: int = 0) -> list[Path]:
        """Write ``n`` samples ``000000.png ...`` (2D) or ``000000.nii.gz ...`` (3D; voxel size
        ``1 mm / data.volume_scale`` for the built-in 1 mm template) to ``out_dir``; sample ``i``
        depends only on (seed, i). A checkpoint taken while growing is upsampled to ``model.resolution``."""
        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise UsageError(f"-o {out_dir}: is a file, not a folder")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"-o {out_dir}: cannot create the folder ({exc.strerror or exc})") from None
        batch = max(1, cfg.eval.batch_size)
        paths: list[Path] = []
        for start in range(0, n, batch):
            images = sampling.sample_images(parts.generator, range(start, min(start + batch, n)), seed, device)
            if images.dim() == 5:
                spacing = list(cfg.data.spacing) or [1.0]
                paths += sampling.write_nifti_volumes(images, out_dir, float(spacing[0]) / cfg.data.volume_scale,
                                                      start=len(paths))
            else:
                paths += sampling.write_pngs(images, out_dir, start=len(paths))
        return paths


def generator(cfg: RunConfig) -> nn.Module:
    """ProGAN's generator of the ``model`` section."""
    from recon_progan.networks import Generator

    m = cfg.model
    return Generator(z_dim=m.z_dim, resolution=m.resolution, num_channels=cfg.data.channels,
                     start_resolution=m.start_resolution, channel_base=m.channel_base, channel_max=m.channel_max,
                     spatial_dims=m.spatial_dims)


def discriminator(cfg: RunConfig) -> nn.Module:
    """ProGAN's critic with minibatch standard deviation."""
    from recon_progan.networks import Discriminator

    m = cfg.model
    return Discriminator(resolution=m.resolution, num_channels=cfg.data.channels,
                         start_resolution=m.start_resolution, channel_base=m.channel_base,
                         channel_max=m.channel_max, spatial_dims=m.spatial_dims, mbstd_group_size=m.mbstd_group_size)


def generate(generator: nn.Module, batch: dict[str, Tensor], rng: torch.Generator | None = None) -> Tensor:
    """``G(z)``, ``z ~ N(0, I)`` of the batch's size drawn from ``rng`` (the step RNG): ``(N, C, r, r[, r])``
    in [-1, 1] (not clamped) at the generator's current resolution ``r``."""
    ref = batch["target"]
    G = cast(Any, sampling.unwrap(generator))
    device = rng.device if rng is not None else ref.device
    z = torch.randn(ref.shape[0], int(G.z_dim), generator=rng, device=device).to(ref.device)
    return generator(z)


def to_network_range(batch: dict[str, Tensor]) -> Tensor:
    """The reals D sees (already at the stage's resolution, see the objective), in [-1, 1]."""
    return batch["target"] * 2.0 - 1.0


def no_content_terms(batch: dict[str, Tensor], fake: Tensor, perceptual_fn: Callable | None = None) -> dict:
    """No reconstruction terms: the generator is trained by the adversarial loss alone."""
    return {}


def scored_view(fake: Tensor, resolution: int) -> Tensor:
    """Network output ``(N, C, r, ...)`` -> what evaluation scores: [0, 1], upsampled to ``resolution``,
    3D volumes as montages of their central slices."""
    from recon_progan.data import montage
    from recon_progan.layers import upsample_to

    images = sampling.to_unit(upsample_to(fake.detach(), resolution))
    return montage(images) if images.dim() == 5 else images


def sample_panels(fake: Tensor, real: Tensor, min_size: int = 64) -> list[Tensor]:
    """``N`` columns ``(2, C, H, W)``: generated ``j`` above real ``j``, enlarged (nearest) to at
    least ``min_size`` pixels high."""
    n = min(fake.shape[0], real.shape[0])
    fake, real = fake[:n].float().cpu(), real[:n].float().cpu().clamp(0, 1)
    factor = max(1, -(-min_size // fake.shape[-2]))
    if factor > 1:
        fake = F.interpolate(fake, scale_factor=factor, mode="nearest")
        real = F.interpolate(real, scale_factor=factor, mode="nearest")
    return [torch.stack([fake[j], real[j]]) for j in range(n)]
