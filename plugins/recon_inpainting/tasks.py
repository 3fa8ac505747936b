"""The ``inpainting`` task: fill a hole from its context (Pathak et al. 2016, plus GAN inpainting).

Training pairs are random patches of the built-in photographs (or the user's images, or MRI
slices with ``data.source=mni152 data.channels=1``) with a random hole (:mod:`masks`). The
generator sees the masked image and the mask concatenated; its output is composited
(``mask * G + (1 - mask) * input``), so known pixels are kept exactly and only the hole is
generated. Losses: L1/L2 on the hole, the adversarial term against a PatchGAN (or DeepFill v2's
SN-PatchGAN, which also sees the mask) that sees the composite, and optional LPIPS. Baselines:
biharmonic inpainting and the mean fill.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import augment_spec, build_augmentation, image_spec, load_split_images
from recon.api import Inpainting, InpaintingParams
from recon.api import Parts, Task
from recon_inpainting.config import (InpaintDataConfig, InpaintModelConfig, MaskConfig, check_config,
                                     discriminator_arch)


class InpaintingTask(Task):
    name = "inpainting"
    description = "image inpainting (U-Net, context encoder or gated convolutions + PatchGAN) vs biharmonic inpainting"
    metric_convention = "sr"  # Y-channel PSNR/SSIM, no border crop (no data.scale)

    def config_sections(self) -> dict[str, type]:
        return {"model": InpaintModelConfig, "data": InpaintDataConfig, "mask": MaskConfig}

    def validate(self, cfg: RunConfig) -> None:
        check_config(cfg)

    # -- data -----------------------------------------------------------------------------
    def operator(self, cfg: RunConfig) -> Inpainting:
        """The forward operator: holes of the ``mask`` section, the input filled by ``mask.fill``."""
        from recon_inpainting.masks import operator

        return operator(cfg.mask)

    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        from recon.api import MeasurementPatches, RandomPatchDataset
        from recon_inpainting.data import make_sample

        check_config(cfg)
        images = load_split_images(image_spec(cfg, channels=cfg.data.channels), split)
        size, d = cfg.data.patch_size, cfg.data
        if split != "train":
            return MeasurementPatches(images, size, d.eval_patches, make_sample(cfg.mask), d.min_patch_std)
        tensors = [torch.from_numpy(a) for _, a in images]
        return RandomPatchDataset(tensors, size, cfg.seed, make_sample(cfg.mask), augment=d.augment,
                                  augment_fn=build_augmentation(augment_spec(cfg)), min_std=d.min_patch_std)

    # -- what is trained -----------------------------------------------------------------
    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        """A U-Net, context encoder or gated-convolution generator (its output composited into the
        hole) against a PatchGAN or an SN-PatchGAN; content terms on the hole; biharmonic
        inpainting and the mean fill as baselines; ``l1_hole`` (a registered metric that reads the
        mask) beside core's metrics."""
        from recon.api import PatchGANDiscriminator, SNPatchGANDiscriminator
        from recon_inpainting.networks import ContextEncoder, GatedGenerator, InpaintUNet

        m, channels = cfg.model, cfg.data.channels
        generator: nn.Module
        if m.arch == "context_encoder":
            generator = ContextEncoder(channels, cfg.data.patch_size, m.ce_channels, m.ce_bottleneck)
        elif m.arch == "gated":
            generator = GatedGenerator(channels, m.gated_channels)
        else:
            generator = InpaintUNet(channels, m.features, m.norm, m.residual)
        discriminator: nn.Module
        d_input: Callable[[dict[str, Tensor], Tensor], Tensor]
        if discriminator_arch(m) == "sn_patchgan":  # DeepFill v2: D sees the image and the mask
            discriminator, d_input = SNPatchGANDiscriminator(channels + 1, m.d_channels, m.d_layers), with_mask
        else:
            discriminator = PatchGANDiscriminator(channels, m.d_channels, m.d_layers, m.d_norm)
            d_input = images_only
        return Parts(generator=generator, discriminator=discriminator, discriminator_input=d_input,
                     generate=composite, stochastic_generate=False, content_loss=hole_terms(cfg),
                     # fills of the known pixels, whatever mask.fill the input has: "biharmonic", "mean fill"
                     baselines=dict(fill_baseline(fill) for fill in ("biharmonic", "mean")),
                     metrics=("l1_hole",))  # registered by this plugin (recon_inpainting.evaluate)

    def predict_file(self, cfg: RunConfig, parts: Parts, input_path: Path, output_path: Path,
                     device: torch.device) -> Path:
        from recon_inpainting.predict import predict_file

        return predict_file(parts, cfg, input_path, output_path, device)

    def presets(self) -> dict[str, dict[str, Any]]:
        from recon_inpainting.presets import presets

        return presets()


def composite(generator: nn.Module, batch: dict[str, Tensor], rng: torch.Generator | None = None) -> Tensor:
    """``G(cat(input, mask))`` in the hole, the input elsewhere: ``(N, C, H, W)``."""
    inputs, mask = batch["input"], batch["mask"]
    raw = generator(torch.cat([inputs, mask.to(inputs.dtype)], dim=1))
    return Inpainting.keep_known(raw, inputs, InpaintingParams(mask))


def fill_baseline(fill: str) -> tuple[str, Callable[[dict[str, Tensor]], Tensor]]:
    """``(name, batch -> prediction)``: the hole of ``batch["input"]`` filled by ``fill`` from its
    known pixels (core's inpainting pseudo-inverse; the input's own fill is ignored)."""
    op = Inpainting(fill)

    def baseline(batch: dict[str, Tensor]) -> Tensor:
        return op.pseudo_inverse(batch["input"], InpaintingParams(batch["mask"]))
    return op.baseline_name, baseline


def images_only(batch: dict[str, Tensor], images: Tensor) -> Tensor:
    """The PatchGAN's input: the images alone."""
    return images


def with_mask(batch: dict[str, Tensor], images: Tensor) -> Tensor:
    """The SN-PatchGAN's input: ``cat(images, mask)`` ``(N, C + 1, H, W)`` (DeepFill v2)."""
    return torch.cat([images, batch["mask"].to(images.dtype)], dim=1)


def hole_terms(cfg: RunConfig) -> Callable[..., dict[str, Tensor]]:
    """``loss.l1`` / ``loss.l2``: mean error over the hole pixels; ``loss.perceptual``: the perceptual
    distance of the composite. (Known pixels are copied, so a valid-region term would be zero.)"""

    def terms(batch: dict[str, Tensor], fake: Tensor, perceptual_fn: Callable | None = None) -> dict[str, Tensor]:
        loss, target, mask = cfg.loss, batch["target"].float(), batch["mask"].float()
        area = (mask.sum() * fake.shape[1]).clamp_min(1)
        out: dict[str, Tensor] = {}
        if loss.l1:
            out["l1"] = loss.l1 * ((fake - target).abs() * mask).sum() / area
        if loss.l2:
            out["l2"] = loss.l2 * ((fake - target) ** 2 * mask).sum() / area
        if loss.perceptual:
            if perceptual_fn is None:
                raise ValueError("loss.perceptual > 0 needs a perceptual network")
            out["perceptual"] = loss.perceptual * perceptual_fn(fake, target).mean()
        return out
    return terms
