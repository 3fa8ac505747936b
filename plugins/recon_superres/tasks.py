"""The super-resolution tasks: ``mri_superres`` (1-channel MRI) and ``srgan`` (RGB photos).

Both train an SRResNet generator against the SRGAN discriminator on HR patches whose LR
inputs are made on the fly by the configured degradation (a forward operator of
:mod:`recon.physics`, :mod:`recon_superres.degradations`), and compare with bicubic
upsampling. ``mri_superres`` scores volumes in the fastMRI convention; ``srgan`` scores
the Y channel with a ``scale``-pixel border crop (the SR literature's convention).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import build_augmentation
from recon.api import ImageSpec, load_split_images
from recon.api import augment_spec, image_spec
from recon.api import MeasurementSlices, RandomPatchDataset, SplitSample
from recon.api import ConfigError
from recon.api import Operator, upsample
from recon.api import Parts, Task
from recon_superres import degradations
from recon_superres.config import SRDataConfig, SRGANDataConfig, SRModelConfig
from recon_superres.networks import SRResNet


class SuperResolutionTask(Task):
    """Shared implementation; subclasses set the name, channels and conventions."""

    channels = 1

    data_config_class: type = SRDataConfig

    def config_sections(self) -> dict[str, type]:
        return {"model": SRModelConfig, "data": self.data_config_class}

    def validate(self, cfg: RunConfig) -> None:
        d = cfg.data
        if d.scale not in (2, 3, 4, 8):
            raise ConfigError(f"data.scale must be 2, 3, 4 or 8, got {d.scale}")
        if d.patch_size % d.scale:
            raise ConfigError(f"data.patch_size={d.patch_size} must be a multiple of data.scale={d.scale}")

    #: 2 for slices and photographs; :class:`recon_superres.volumetric.MRISuperRes3DTask` sets 3
    spatial_dims = 2

    # -- data -----------------------------------------------------------------------------
    def image_spec(self, cfg: RunConfig) -> ImageSpec:
        return image_spec(cfg, channels=self.channels, multiple=cfg.data.scale)

    def operator(self, cfg: RunConfig) -> Operator:
        """The forward operator of ``data.degradation`` (in the task's ``spatial_dims``)."""
        d = cfg.data
        return degradations.make_operator(d.degradation, d.scale, d.blur_sigma, self.spatial_dims)

    def make_pair(self, cfg: RunConfig) -> SplitSample:
        """``(hr (C, *spatial), rng) -> {"input": A(hr) (+ noise), "target": hr}``, 2D or 3D; its
        measurement also runs batched on the device (``data.simulate_on=device``: the noise
        ``(C, *spatial / scale)`` is drawn with the sample, ``A`` applied to ``(N, C, *spatial)``)."""
        d, op = cfg.data, self.operator(cfg)

        def pair(hr: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
            lr = op(hr)
            if d.noise_std > 0:
                lr = lr + d.noise_std * torch.randn(lr.shape, generator=rng)
            return {"input": lr.contiguous(), "target": hr}

        def draw(hr: Tensor, rng: torch.Generator) -> dict[str, Any]:
            if d.noise_std <= 0:
                return {"target": hr}
            lr_shape = (hr.shape[0], *(n // d.scale for n in hr.shape[1:]))
            return {"target": hr, "params": {"noise": torch.randn(lr_shape, generator=rng)}}

        def measure(batch: dict[str, Any]) -> dict[str, Any]:
            lr = op(batch["target"])
            if d.noise_std > 0:
                lr = lr + d.noise_std * batch["params"]["noise"]
            return {"input": lr.contiguous(), "target": batch["target"]}
        return SplitSample(pair, draw, measure)

    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        images = load_split_images(self.image_spec(cfg), split)
        if split != "train":  # whole images (centre-cropped to data.eval_crop), measured with (0, index)
            return MeasurementSlices(images, self.make_pair(cfg), cfg.data.eval_crop, cfg.data.scale)
        tensors = [torch.from_numpy(a) for _, a in images]
        return RandomPatchDataset(tensors, cfg.data.patch_size, cfg.seed, self.make_pair(cfg), augment=cfg.data.augment,
                                  augment_fn=build_augmentation(augment_spec(cfg)))

    # -- what is trained -----------------------------------------------------------------
    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        """SRResNet against the SRGAN (or PatchGAN) discriminator; bicubic upsampling (and, for
        ``kspace`` data, zero-padded k-space) as baselines."""
        return Parts(generator=self.generator(cfg), discriminator=self.discriminator(cfg),
                     baselines=self.baselines(cfg))

    def generator(self, cfg: RunConfig) -> nn.Module:
        """SRResNet of the ``model`` section."""
        m = cfg.model
        return SRResNet(self.channels, m.channels, m.blocks, cfg.data.scale, m.norm, m.global_residual, m.res_scale)

    def discriminator(self, cfg: RunConfig) -> nn.Module:
        """The SRGAN (VGG-style) discriminator, or a PatchGAN with ``model.d_arch=patch``."""
        from recon.api import PatchGANDiscriminator, VGGStyleDiscriminator

        m = cfg.model
        if m.d_arch == "patch":
            return PatchGANDiscriminator(self.channels, m.d_channels, m.d_stages, m.d_norm, self.spatial_dims)
        return VGGStyleDiscriminator(self.channels, m.d_channels, m.d_stages, m.d_norm, m.d_fc)

    def baselines(self, cfg: RunConfig) -> dict[str, Any]:
        """Bicubic upsampling first, then, for ``kspace`` data, the operator's own pseudo-inverse
        (zero-padded k-space)."""
        scale = cfg.data.scale
        out = {"bicubic": lambda batch: upsample(batch["input"], scale, 2)}
        op = self.operator(cfg)
        if op.baseline_name not in out:
            out[op.baseline_name] = lambda batch: op.pseudo_inverse(batch["input"])
        return out


FINETUNE_STEPS = 400


def smoke_preset() -> dict[str, Any]:
    """Seconds on a CPU: tiny networks, a few steps, every periodic action exercised."""
    return {
        "trainer": {"max_steps": 6, "batch_size": 4, "checkpoint_every": 3, "eval_every": 3,
                    "sample_every": 3, "log_every": 1, "d_warmup_steps": 2, "ema_decay": 0.9},
        "model": {"channels": 8, "blocks": 1, "norm": "none", "global_residual": True,
                  "d_channels": 8, "d_stages": 2, "d_fc": 16},
        "data": {"patch_size": 32, "eval_crop": 64},
        "loss": {"adversarial": 1e-3, "r1_gamma": 1.0, "reg_interval": 2},
        "eval": {"max_images": 4, "lpips": False, "patch_kid": False},
    }


def finetune_preset(default: dict[str, Any]) -> dict[str, Any]:
    """``default``'s networks and losses on a short schedule, for a run started from another
    run's weights (``--init-from``): FINETUNE_STEPS steps, the adversarial game from the start
    (the initialised D has already played it), checkpoints and evaluation scaled down."""
    out = copy.deepcopy(default)
    out["trainer"].update(max_steps=FINETUNE_STEPS, d_warmup_steps=0, checkpoint_every=FINETUNE_STEPS // 2,
                          eval_every=FINETUNE_STEPS, sample_every=FINETUNE_STEPS)
    return out


class MRISuperResTask(SuperResolutionTask):
    name = "mri_superres"
    description = "MRI super-resolution x2/x4 (SRResNet + SRGAN discriminator) on 2D slices"
    metric_convention = "fastmri"
    channels = 1

    def presets(self) -> dict[str, dict[str, Any]]:
        default = self._default_preset()
        return {"smoke": smoke_preset(), "default": default, "finetune": finetune_preset(default),
                "paper": self._paper_preset()}

    @staticmethod
    def _default_preset() -> dict[str, Any]:
        # the adversarial game from step 500 of 2000, RaGAN 5e-3 against L1 = 1, and DiffAugment
        # on D's inputs (one brain: without it D memorises the slices and G learns artifacts);
        # the measured perception-distortion sweep is in docs/perception-distortion.md
        return {
            "trainer": {"max_steps": 2000, "batch_size": 16, "lr_g": 4e-4, "lr_d": 1e-4,
                        "lr_schedule": "cosine", "d_warmup_steps": 500, "ema_decay": 0.999,
                        "checkpoint_every": 500, "eval_every": 1000, "sample_every": 1000, "log_every": 20},
            "model": {"channels": 32, "blocks": 6, "norm": "none", "global_residual": True,
                      "d_channels": 32, "d_stages": 3, "d_fc": 128},
            "data": {"patch_size": 64, "degradation": "blur", "scale": 4},
            "loss": {"gan_type": "ragan", "adversarial": 5e-3, "l1": 1.0, "r1_gamma": 0.1,
                     "d_augment": "translation,cutout"},
        }

    @staticmethod
    def _paper_preset() -> dict[str, Any]:
        return {
            "trainer": {"max_steps": 200_000, "batch_size": 16, "lr_g": 1e-4, "lr_d": 1e-4,
                        "lr_schedule": "step", "d_warmup_steps": 100_000, "betas": [0.9, 0.999],
                        "checkpoint_every": 5000, "eval_every": 5000, "sample_every": 5000},
            "model": {"channels": 64, "blocks": 16, "norm": "batch", "global_residual": False,
                      "d_channels": 64, "d_stages": 4, "d_fc": 1024},
            "data": {"patch_size": 96},
            "loss": {"gan_type": "ns", "adversarial": 1e-3, "l1": 0.0, "l2": 1.0},
        }


class SRGANTask(SuperResolutionTask):
    name = "srgan"
    description = "SRGAN x4 super-resolution of RGB photographs (Ledig et al. 2017)"
    metric_convention = "sr"
    channels = 3
    data_config_class = SRGANDataConfig

    def presets(self) -> dict[str, dict[str, Any]]:
        return {
            "smoke": smoke_preset(),
            "default": {
                "trainer": {"max_steps": 2000, "batch_size": 16, "lr_g": 4e-4, "lr_d": 1e-4,
                            "lr_schedule": "cosine", "d_warmup_steps": 500, "checkpoint_every": 500,
                            "eval_every": 1000, "sample_every": 1000, "log_every": 20},
                "model": {"channels": 32, "blocks": 6, "norm": "none", "global_residual": True,
                          "d_channels": 32, "d_stages": 3, "d_fc": 128},
                "data": {"patch_size": 64, "eval_crop": 0},  # whole test photographs
                "loss": {"gan_type": "ragan", "adversarial": 2e-3, "l1": 1.0, "r1_gamma": 0.1},
            },
            "paper": {
                "trainer": {"max_steps": 200_000, "batch_size": 16, "lr_g": 1e-4, "lr_d": 1e-4,
                            "lr_schedule": "step", "d_warmup_steps": 100_000, "betas": [0.9, 0.999],
                            "checkpoint_every": 5000, "eval_every": 5000, "sample_every": 5000},
                "model": {"channels": 64, "blocks": 16, "norm": "batch", "d_channels": 64, "d_stages": 4},
                "data": {"patch_size": 96},
                "loss": {"gan_type": "ns", "adversarial": 1e-3, "l1": 0.0, "l2": 1.0},
            },
        }

