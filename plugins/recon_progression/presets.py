"""Presets of ``mri_progression``: ``smoke`` (seconds), ``default`` (CPU minutes), ``paper`` (GPU)."""

from __future__ import annotations

from typing import Any


def presets() -> dict[str, dict[str, Any]]:
    """Fresh nested overrides per preset (callers may mutate them)."""
    return {
        # seconds on a CPU: a few subjects, a tiny U-Net, every periodic action exercised
        "smoke": {
            "trainer": {"max_steps": 6, "batch_size": 4, "checkpoint_every": 3, "eval_every": 3,
                        "sample_every": 3, "log_every": 1, "d_warmup_steps": 2, "ema_decay": 0.9,
                        "lr_g": 1e-3, "lr_d": 2e-4},
            "model": {"channels": 4, "levels": 2, "d_channels": 8, "d_layers": 2},
            "data": {"subjects": 12},
            "loss": {"gan_type": "lsgan", "adversarial": 0.01, "l1": 1.0},
            "eval": {"max_images": 8, "lpips": False, "patch_kid": False},
        },
        # the CPU default: minutes on 2 cores (docs/tasks/progression.md gives the measured table)
        "default": {
            "trainer": {"max_steps": 800, "batch_size": 12, "lr_g": 1e-3, "lr_d": 2e-4, "betas": [0.5, 0.999],
                        "lr_schedule": "cosine", "d_warmup_steps": 300, "ema_decay": 0.99,
                        "checkpoint_every": 400, "eval_every": 0, "sample_every": 400, "log_every": 20},
            "model": {"channels": 16, "levels": 3, "smooth": 2.0, "d_channels": 16, "d_layers": 3},
            "data": {"subjects": 300},
            "loss": {"gan_type": "lsgan", "adversarial": 0.005, "l1": 1.0, "volume": 1.0, "brain_volume": 5.0},
            "eval": {"max_images": 0, "patch_kid": False},
        },
        # a larger generator for a GPU
        "paper": {
            "trainer": {"max_steps": 20_000, "batch_size": 32, "lr_g": 5e-4, "lr_d": 2e-4, "betas": [0.5, 0.999],
                        "lr_schedule": "cosine", "d_warmup_steps": 2000, "ema_decay": 0.999,
                        "checkpoint_every": 2000, "eval_every": 2000, "sample_every": 2000, "log_every": 100},
            "model": {"channels": 32, "levels": 4, "d_channels": 64, "d_layers": 3},
            "data": {"subjects": 2000},
            "loss": {"gan_type": "lsgan", "adversarial": 0.01, "l1": 1.0},
        },
    }
