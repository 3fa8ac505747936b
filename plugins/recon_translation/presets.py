"""Presets of ``mri_translation``: ``smoke`` (seconds), ``default`` (CPU minutes), ``paper`` (GPU)."""

from __future__ import annotations

from typing import Any


def presets() -> dict[str, dict[str, Any]]:
    """Fresh nested overrides per preset (callers may mutate them)."""
    return {
        # seconds on a CPU: a tiny U-Net, a few steps, every periodic action exercised
        "smoke": {
            "trainer": {"max_steps": 6, "batch_size": 4, "checkpoint_every": 3, "eval_every": 3,
                        "sample_every": 3, "log_every": 1, "d_warmup_steps": 2, "ema_decay": 0.9},
            "model": {"num_downs": 3, "channels": 4, "d_channels": 8, "d_layers": 2},
            "data": {"patch_size": 32},
            "loss": {"gan_type": "lsgan", "adversarial": 0.01, "l1": 1.0, "r1_gamma": 1.0, "reg_interval": 2},
            "eval": {"max_images": 4, "lpips": False, "patch_kid": False},
        },
        # the CPU default: minutes on 2 cores; beats the histogram-matched source on PSNR and SSIM
        # (docs/tasks/translation.md gives the measured table)
        "default": {
            "trainer": {"max_steps": 1500, "batch_size": 8, "lr_g": 1e-3, "lr_d": 2e-4, "betas": [0.5, 0.999],
                        "lr_schedule": "cosine", "d_warmup_steps": 300, "ema_decay": 0.995,
                        "checkpoint_every": 500, "eval_every": 500, "sample_every": 500, "log_every": 20},
            "model": {"num_downs": 5, "channels": 16, "norm": "batch", "dropout": 0.0, "output": "lookup_residual",
                      "d_channels": 32, "d_layers": 3, "d_norm": "batch"},
            "data": {"patch_size": 64},
            "loss": {"gan_type": "lsgan", "adversarial": 0.01, "l1": 1.0},
        },
        # pix2pix (Isola et al. 2017): U-Net-256 with dropout 0.5, the 70x70 PatchGAN seeing
        # (source, image), vanilla GAN loss + 100 x L1, Adam 2e-4 (0.5, 0.999), batch 1, 256x256
        # crops (slices smaller than 256 are zero-padded), no EMA
        "paper": {
            "trainer": {"max_steps": 200_000, "batch_size": 1, "lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999],
                        "lr_schedule": "constant", "d_warmup_steps": 0, "ema_decay": 0.0,
                        "checkpoint_every": 5000, "eval_every": 5000, "sample_every": 5000, "log_every": 100},
            "model": {"num_downs": 8, "channels": 64, "norm": "batch", "dropout": 0.5, "output": "tanh",
                      "d_channels": 64, "d_layers": 3, "d_norm": "batch"},
            "data": {"patch_size": 256},
            "loss": {"gan_type": "ns", "adversarial": 1.0, "l1": 100.0},
        },
    }
