"""The ``mri_motion`` task: retrospective correction of rigid in-plane motion artefacts.

Pairs are made on the fly: clean 2D slices (the MNI152 T1 by default, or the user's data)
are corrupted by simulated motion between k-space lines (the forward operator
:class:`recon.physics.RigidMotion`, applied by :mod:`recon_motion.simulate`). A residual
U-Net (MONAI ``BasicUNet``) is trained with L1 (+ optional perceptual) and an adversarial
loss against a (conditional) PatchGAN, the pix2pix recipe that Johnson & Drangova 2019
applied to motion correction. The classical baseline is the corrupted input
itself; metrics follow the fastMRI convention (per volume).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import augment_spec, build_augmentation, image_spec, load_split_images
from recon.api import ConfigError
from recon.api import Parts, Task
from recon_motion.config import MotionConfig, MotionDataConfig, MotionModelConfig, check_motion
from recon_motion.simulate import MotionParams


def motion_params(cfg: RunConfig) -> MotionParams:
    """The ``motion`` config section as the forward operator, :class:`recon.physics.RigidMotion` (validated)."""
    m = cfg.motion
    check_motion(m)
    return MotionParams(m.max_rotation, m.max_translation, m.num_events, m.fraction_corrupted,
                        m.center_fraction, m.ordering)


class MotionCorrectionTask(Task):
    name = "mri_motion"
    description = "MRI motion correction: residual U-Net + PatchGAN on simulated rigid motion, vs the corrupted input"
    metric_convention = "fastmri"
    channels = 1

    def config_sections(self) -> dict[str, type]:
        return {"model": MotionModelConfig, "data": MotionDataConfig, "motion": MotionConfig}

    def validate(self, cfg: RunConfig) -> None:
        check_motion(cfg.motion)
        if cfg.data.patch_size < 0:
            raise ConfigError(f"data.patch_size must be >= 0 (0 = whole slices), got {cfg.data.patch_size}")
        if any(f < 1 for f in cfg.model.features):
            raise ConfigError(f"model.features must be positive widths, got {list(cfg.model.features)}")
        if cfg.model.d_layers < 1 or cfg.model.d_channels < 1:
            raise ConfigError("model.d_layers and model.d_channels must be >= 1")

    # -- data -----------------------------------------------------------------------------
    def operator(self, cfg: RunConfig) -> MotionParams:
        """The forward operator: rigid motion between k-space rows (the ``motion`` section)."""
        return motion_params(cfg)

    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        from recon.api import MeasuredCrops, MeasurementSlices
        from recon_motion.data import corrupt

        measure = corrupt(self.operator(cfg))
        images = load_split_images(image_spec(cfg, channels=self.channels), split)
        if split != "train":
            return MeasurementSlices(images, measure)
        tensors = [torch.from_numpy(a) for _, a in images]
        return MeasuredCrops(tensors, cfg.data.patch_size, cfg.seed, measure, augment=cfg.data.augment,
                             augment_fn=build_augmentation(augment_spec(cfg)))

    # -- what is trained -----------------------------------------------------------------
    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        """A residual U-Net against a PatchGAN (conditional on the corrupted input with
        ``model.conditional_d``); the corrupted input (the operator's pseudo-inverse) as baseline."""
        from recon.api import PatchGANDiscriminator, VGGStyleDiscriminator
        from recon_motion.networks import ResidualUNet

        m = cfg.model
        op = self.operator(cfg)
        conditional = bool(m.conditional_d)

        def discriminator_input(batch: dict[str, Tensor], images: Tensor) -> Tensor:
            """``(N, 2C, H, W)`` = (image, corrupted input) for the conditional D, else the image."""
            if conditional:
                return torch.cat([images, batch["input"].to(images.dtype)], dim=1)
            return images

        d_in = self.channels * (2 if conditional else 1)
        discriminator = (VGGStyleDiscriminator(d_in, m.d_channels, m.d_layers, m.d_norm, m.d_fc) if m.d_arch == "vgg"
                         else PatchGANDiscriminator(d_in, m.d_channels, m.d_layers, m.d_norm))
        return Parts(generator=ResidualUNet(self.channels, self.channels, m.features, m.norm, m.residual),
                     discriminator=discriminator,
                     discriminator_input=discriminator_input,
                     baselines={op.baseline_name: lambda batch: op.pseudo_inverse(batch["input"])})

    def presets(self) -> dict[str, dict[str, Any]]:
        from recon_motion.presets import presets

        return presets()
