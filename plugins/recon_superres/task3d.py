"""The ``mri_superres_3d`` task: volumetric MRI super-resolution (Sanchez & Vilaplana 2018).

An SRResNet with Conv3d layers and voxel-shuffle upsampling against a 3D VGG-style (or
PatchGAN) discriminator, trained on ``data.patch_size``^3 cubes degraded in 3D (``blur``: 3D
Gaussian + block mean, or ``kspace``: 3D k-space truncation). Each val/test volume is
super-resolved whole and scored per volume in the fastMRI convention (slices along
``data.axis``) against trilinear upsampling, by core's paired evaluation.
"""

from __future__ import annotations

from typing import Any

from torch import nn
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import ConfigError, Parts, upsample
from recon_superres.degradations import DEGRADATIONS_3D
from recon_superres.tasks import MRISuperResTask, smoke_preset


class MRISuperRes3DTask(MRISuperResTask):
    """``mri_superres`` on volumes: the 2D task's config, data options and losses, in 3D."""

    name = "mri_superres_3d"
    description = "3D MRI super-resolution x2/x4 (Conv3d SRResNet + 3D discriminator) on volume patches"
    spatial_dims = 3

    def validate(self, cfg: RunConfig) -> None:
        d = cfg.data
        if d.scale not in (2, 4, 8):
            raise ConfigError(f"data.scale must be 2, 4 or 8 for volumes, got {d.scale}")
        if d.patch_size % d.scale:
            raise ConfigError(f"data.patch_size={d.patch_size} must be a multiple of data.scale={d.scale}")
        if cfg.loss.perceptual > 0:
            raise ConfigError("loss.perceptual (ST-LPIPS, a 2D image network) is not defined for volumes; "
                              "leave it at 0 or train slice-wise (--task mri_superres)")
        if d.degradation not in DEGRADATIONS_3D:
            raise ConfigError(f"data.degradation={d.degradation} has no 3D form; use {' or '.join(DEGRADATIONS_3D)}")

    def presets(self) -> dict[str, dict[str, Any]]:
        two_d = super().presets()
        return {
            "smoke": smoke_preset(),
            # 1000 steps of 4 cubes of 32^3 at x2 (D from step 250): beats trilinear in minutes
            "default": {
                "trainer": {**two_d["default"]["trainer"], "max_steps": 1000, "batch_size": 4, "d_warmup_steps": 250,
                            "checkpoint_every": 250, "eval_every": 500, "sample_every": 500},
                "model": {**two_d["default"]["model"], "blocks": 4},
                "data": {"patch_size": 32, "degradation": "blur", "scale": 2, "eval_crop": 64},
                "loss": {"gan_type": "ragan", "adversarial": 5e-3, "l1": 1.0, "r1_gamma": 0.1},
            },
            "paper": {**two_d["paper"], "data": {"patch_size": 64}},
        }

    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        from recon_superres.volumetric import build_dataset_3d

        return build_dataset_3d(self, cfg, split)

    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        """The 3D SRResNet against a 3D discriminator, trilinear upsampling as baseline. Core's
        evaluation scores each whole volume (slices along ``data.axis``); samples show the
        central slices (:func:`recon_superres.volumetric.visualize_3d`)."""
        from recon_superres.volumetric import visualize_3d

        scale, axis = cfg.data.scale, cfg.data.axis
        return Parts(generator=self.generator(cfg), discriminator=self.discriminator(cfg),
                     baselines={"trilinear": lambda batch: upsample(batch["input"], scale, 3)},
                     visualize=lambda batch, fake: visualize_3d(batch, fake, axis), predict_dims=3)

    def generator(self, cfg: RunConfig) -> nn.Module:
        """SRResNet with Conv3d layers and voxel-shuffle upsampling."""
        from recon_superres.networks3d import SRResNet3d

        m = cfg.model
        return SRResNet3d(self.channels, m.channels, m.blocks, cfg.data.scale, m.norm, m.global_residual,
                          m.res_scale)

    def discriminator(self, cfg: RunConfig) -> nn.Module:
        """The 3D VGG-style discriminator, or a 3D PatchGAN with ``model.d_arch=patch``."""
        m = cfg.model
        if m.d_arch == "patch":
            return super().discriminator(cfg)
        from recon_superres.networks3d import VGGStyleDiscriminator3d

        return VGGStyleDiscriminator3d(self.channels, m.d_channels, m.d_stages, m.d_norm, m.d_fc)
