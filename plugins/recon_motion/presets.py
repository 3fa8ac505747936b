"""Presets of ``mri_motion``: ``smoke`` (seconds), ``default`` (CPU minutes), ``paper`` (GPU)."""

from __future__ import annotations

from typing import Any


def presets() -> dict[str, dict[str, Any]]:
    """Fresh nested overrides per preset (callers may mutate them)."""
    return {
        # seconds on a CPU: tiny networks, a few steps, every periodic action exercised
        "smoke": {
            "trainer": {"max_steps": 6, "batch_size": 4, "checkpoint_every": 3, "eval_every": 3,
                        "sample_every": 3, "log_every": 1, "d_warmup_steps": 2, "ema_decay": 0.9},
            "model": {"features": [4, 4, 8, 8, 16, 4], "d_channels": 8, "d_layers": 2},
            "data": {"patch_size": 32},
            "loss": {"gan_type": "lsgan", "adversarial": 0.01, "r1_gamma": 1.0, "reg_interval": 2},
            "eval": {"max_images": 4, "lpips": False, "patch_kid": False},
        },
        # the CPU default: minutes on 2 cores, beats the corrupted input on PSNR and SSIM
        "default": {
            "trainer": {"max_steps": 1200, "batch_size": 8, "lr_g": 1e-3, "lr_d": 2e-4,
                        "lr_schedule": "cosine", "d_warmup_steps": 200, "ema_decay": 0.995,
                        "checkpoint_every": 400, "eval_every": 400, "sample_every": 400, "log_every": 20},
            # SRGAN's VGG-style D (one logit per 64 px patch, conditional on the corrupted input)
            # with DiffAugment: the PatchGAN's texture raised patch KID (docs/perception-distortion.md)
            "model": {"features": [16, 16, 32, 64, 128, 16], "d_arch": "vgg", "d_channels": 32, "d_layers": 3,
                      "d_fc": 128},
            "data": {"patch_size": 64},
            "loss": {"gan_type": "ragan", "adversarial": 2e-2, "l1": 1.0, "r1_gamma": 0.1,
                     "d_augment": "translation,cutout"},
        },
        # pix2pix (Isola et al. 2017) as adapted to motion correction by Johnson & Drangova 2019:
        # a wide U-Net, the 70x70 conditional PatchGAN, L1 weight 100 : adversarial 1, Adam 2e-4 (0.5, 0.999)
        "paper": {
            "trainer": {"max_steps": 100_000, "batch_size": 16, "lr_g": 2e-4, "lr_d": 2e-4,
                        "betas": [0.5, 0.999], "lr_schedule": "cosine", "d_warmup_steps": 0,
                        "checkpoint_every": 5000, "eval_every": 5000, "sample_every": 5000},
            "model": {"features": [64, 64, 128, 256, 512, 64], "norm": "batch", "d_channels": 64,
                      "d_layers": 3, "d_norm": "batch", "conditional_d": True},
            "data": {"patch_size": 0},
            "loss": {"gan_type": "ns", "adversarial": 0.01, "l1": 1.0},
        },
    }
