"""Presets of ``mri_kspace``: ``smoke`` (seconds), ``default`` (CPU minutes), ``paper`` (GPU)."""

from __future__ import annotations

from typing import Any


def presets() -> dict[str, dict[str, Any]]:
    """Fresh nested overrides per preset (callers may mutate them)."""
    return {
        # seconds on a CPU: tiny networks, a few steps, every periodic action exercised
        "smoke": {
            "trainer": {"max_steps": 6, "batch_size": 2, "checkpoint_every": 3, "eval_every": 3,
                        "sample_every": 3, "log_every": 1, "d_warmup_steps": 2, "ema_decay": 0.9},
            "model": {"cascades": 2, "chans": 4, "depth": 1, "d_channels": 8, "d_layers": 2},
            "data": {"patch_size": 32},
            "loss": {"adversarial": 0.01, "kspace": 0.1, "r1_gamma": 1.0, "reg_interval": 2},
            "eval": {"max_images": 4, "lpips": False, "patch_kid": False},
        },
        # the CPU default (see docs/kspace.md for the measured table)
        "default": {
            "trainer": {"max_steps": 1200, "batch_size": 4, "lr_g": 1e-3, "lr_d": 2e-4,
                        "lr_schedule": "cosine", "d_warmup_steps": 200, "ema_decay": 0.99,
                        "checkpoint_every": 400, "eval_every": 0, "sample_every": 400, "log_every": 20},
            # SRGAN's VGG-style D (on magnitudes, one logit per patch) with
            # DiffAugment and RaGAN, as mri_motion: the PatchGAN it replaces raised patch KID by a
            # fifth over the twin, augmented it stopped separating output from target
            "model": {"cascades": 5, "chans": 8, "depth": 2, "convs": 1, "dc": "hard",
                      "d_arch": "vgg", "d_channels": 32, "d_layers": 3},
            "data": {"patch_size": 96},
            "loss": {"gan_type": "ragan", "adversarial": 2e-2, "l1": 1.0, "kspace": 0.0, "r1_gamma": 0.1,
                     "d_augment": "translation,cutout"},
        },
        # E2E-VarNet at fastMRI sizes (Sriram et al. 2020: 12 cascades, MONAI's default U-Net widths,
        # Adam 3e-4, batch 1, step decay) with the 70x70 PatchGAN of pix2pix; for a GPU
        "paper": {
            "trainer": {"max_steps": 200_000, "batch_size": 1, "lr_g": 3e-4, "lr_d": 1e-4,
                        "lr_schedule": "step", "d_warmup_steps": 20_000, "ema_decay": 0.999,
                        "checkpoint_every": 5000, "eval_every": 5000, "sample_every": 5000},
            "model": {"generator": "varnet", "cascades": 12, "varnet_features": [32, 32, 64, 128, 256, 32],
                      "sens_features": [8, 8, 16, 32, 64, 8], "d_channels": 64, "d_layers": 3,
                      "d_norm": "instance"},
            "data": {"patch_size": 0},
            "loss": {"gan_type": "lsgan", "adversarial": 1e-3, "l1": 1.0, "kspace": 0.0},
        },
    }
