"""Presets of ``mri_translation_unpaired``: ``smoke`` (seconds), ``default`` (CPU minutes), ``paper`` (GPU)."""

from __future__ import annotations

from typing import Any


def presets() -> dict[str, dict[str, Any]]:
    """Fresh nested overrides per preset (callers may mutate them)."""
    return {
        # seconds on a CPU: tiny U-Nets, a few steps, every periodic action exercised
        "smoke": {
            "trainer": {"max_steps": 6, "batch_size": 2, "checkpoint_every": 3, "eval_every": 3,
                        "sample_every": 3, "log_every": 1, "d_warmup_steps": 0, "ema_decay": 0.9},
            "model": {"generator": "unet", "num_downs": 3, "channels": 4, "output": "quantile_residual",
                      "zero_background": True, "pointwise_channels": 8, "d_channels": 8, "d_layers": 2},
            "data": {"patch_size": 32},
            "loss": {"gan_type": "lsgan", "adversarial": 1.0, "cycle": 10.0, "identity": 0.0},
            "eval": {"max_images": 4, "lpips": False, "patch_kid": False},
        },
        # the CPU default: minutes on 2 cores (docs/tasks/translation.md gives the measured table)
        "default": {
            "trainer": {"max_steps": 1200, "batch_size": 4, "lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999],
                        "lr_schedule": "cosine", "d_warmup_steps": 0, "ema_decay": 0.995,
                        "checkpoint_every": 400, "eval_every": 400, "sample_every": 400, "log_every": 20},
            "model": {"generator": "unet", "num_downs": 4, "channels": 16, "norm": "instance", "dropout": 0.0,
                      "output": "quantile_residual", "zero_background": True, "pointwise_channels": 32,
                      "d_channels": 32, "d_layers": 3, "d_norm": "instance"},
            "data": {"patch_size": 64},
            # no identity term: it asks G_AB to leave T2 images unchanged, i.e. forbids the contrast
            # inversion T1 -> T2 needs; adversarial 0.2 with lr_g 2e-4: at weight 1 (or lr_g 1e-3) the
            # game pulls the generators away from the quantile map they start at (validation SSIM
            # falls); docs/tasks/translation.md measures both
            "loss": {"gan_type": "lsgan", "adversarial": 0.2, "cycle": 10.0, "identity": 0.0},
        },
        # CycleGAN (Zhu et al. 2017): resnet_9blocks (64 channels, instance norm, tanh), two 70x70
        # PatchGANs, LSGAN, cycle lambda = 10, identity 0.5 lambda, Adam 2e-4 (0.5, 0.999), batch 1,
        # 256x256 crops (slices zero-padded), no EMA. Core's lsgan G loss is 1/2 E[(f - 1)^2], so
        # adversarial = 2 is CycleGAN's E[(f - 1)^2]. CycleGAN also decays the rate linearly over its
        # second half and keeps a pool of 50 past fakes for D; here the rate is constant, no pool.
        "paper": {
            "trainer": {"max_steps": 200_000, "batch_size": 1, "lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999],
                        "lr_schedule": "constant", "d_warmup_steps": 0, "ema_decay": 0.0,
                        "checkpoint_every": 5000, "eval_every": 5000, "sample_every": 5000, "log_every": 100},
            "model": {"generator": "resnet", "channels": 64, "resnet_blocks": 9, "norm": "instance",
                      "output": "tanh", "zero_background": False, "d_channels": 64, "d_layers": 3,
                      "d_norm": "instance"},
            "data": {"patch_size": 256},
            "loss": {"gan_type": "lsgan", "adversarial": 2.0, "cycle": 10.0, "identity": 5.0},
        },
    }
