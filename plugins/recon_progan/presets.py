"""Presets of ``progan``: ``smoke`` / ``smoke3d`` (seconds), ``default`` (2D faces, CPU minutes),
``3d`` (32^3 MNI152 crops, CPU minutes) and ``paper`` (1024^2, GPUs).

Optimiser as the paper: Adam, ``lr = 0.001``, ``betas = (0, 0.99)``; one D step per G step;
WGAN-GP (``gp_weight`` 10, every step) with drift 0.001; an EMA of G's weights (decay 0.999,
ramped up by core's EMA) is what samples and evaluation use. The paper's ``phase_steps`` is
800k images per fade and per stabilisation (50k steps at batch 16); the CPU presets scale
it down so that the last level gets about a third of the run.
"""

from __future__ import annotations

from typing import Any

BETAS = [0.0, 0.99]
LR = 0.001
# The CPU presets' loss: non-saturating logistic + lazy R1, StyleGAN's choice for progressive growing
# (Karras et al. 2019). The paper's WGAN-GP (n_critic 1) oscillates for thousands of steps before the
# fakes even match the reals' mean brightness, far beyond a CPU budget (docs/progan.md: measured);
# `paper` keeps WGAN-GP + drift, and `--set loss.gan_type=wgan-gp --set loss.drift=0.001
# --set loss.r1_gamma=0 --set loss.reg_interval=1` restores it anywhere.
CPU_LOSS = {"gan_type": "ns", "r1_gamma": 0.1, "reg_interval": 4, "drift": 0.0}


def presets() -> dict[str, dict[str, Any]]:
    """Fresh nested overrides per preset (callers may mutate them)."""
    smoke: dict[str, dict[str, Any]] = {
        # 4 -> 8 -> 16 in 5 steps (phase_steps 1): every stage, fade and periodic action exercised
        "trainer": {"max_steps": 6, "batch_size": 4, "lr_g": LR, "lr_d": LR, "betas": BETAS, "ema_decay": 0.9,
                    "checkpoint_every": 3, "eval_every": 3, "sample_every": 3, "log_every": 1},
        "model": {"resolution": 16, "start_resolution": 4, "phase_steps": 1, "z_dim": 16,
                  "channel_base": 128, "channel_max": 16},
        "data": {"source": "faces"},
        "eval": {"n_samples": 8, "val_samples": 4, "max_images": 8, "batch_size": 8},
    }
    smoke3d = {
        "trainer": {**smoke["trainer"], "batch_size": 2},
        "model": {"spatial_dims": 3, "resolution": 8, "start_resolution": 4, "phase_steps": 1, "z_dim": 16,
                  "channel_base": 32, "channel_max": 8},
        "data": {"source": "mni152", "axis": 1, "volume_scale": 0.25, "val_fraction": 0.25, "test_fraction": 0.25,
                 "gap": 2, "crop_min_foreground": 0.3},
        "eval": {"n_samples": 4, "val_samples": 4, "max_images": 4, "batch_size": 4},
    }
    return {
        "smoke": smoke,
        "smoke3d": smoke3d,
        # the CPU default: the 200 lfw faces (130 for training) grown 4 -> 8 -> 16 -> 32
        # (7 phases of 250 steps, then 650 more at 32 x 32), minutes on 2 cores
        "default": {
            "trainer": {"max_steps": 2400, "batch_size": 16, "lr_g": LR, "lr_d": LR, "betas": BETAS,
                        "ema_decay": 0.99, "checkpoint_every": 500, "eval_every": 0, "sample_every": 500,
                        "log_every": 50},
            "model": {"resolution": 32, "start_resolution": 4, "phase_steps": 250, "z_dim": 64,
                      "channel_base": 1024, "channel_max": 64},
            "data": {"source": "faces", "augment": "xflip"},
            "loss": CPU_LOSS,
            "eval": {"n_samples": 300, "val_samples": 100, "batch_size": 50},
        },
        # 3D: 32^3 crops (1 mm voxels) of the MNI152 T1 brain grown 4 -> 8 -> 16 -> 32; split into
        # coronal slabs (axis 1; 157 slices after the foreground crop), so the val and test slabs
        # (22 % each: 34 slices) hold whole crops
        "3d": {
            "trainer": {"max_steps": 500, "batch_size": 4, "lr_g": LR, "lr_d": LR, "betas": BETAS,
                        "ema_decay": 0.99, "checkpoint_every": 100, "eval_every": 0, "sample_every": 100,
                        "log_every": 25},
            "model": {"spatial_dims": 3, "resolution": 32, "start_resolution": 4, "phase_steps": 50,
                      "z_dim": 64, "channel_base": 128, "channel_max": 32},
            "data": {"source": "mni152", "axis": 1, "volume_scale": 1.0, "val_fraction": 0.22,
                     "test_fraction": 0.22, "gap": 2, "augment": "xflip"},
            "loss": CPU_LOSS,
            "eval": {"n_samples": 200, "val_samples": 50, "max_images": 200, "batch_size": 25},
        },
        # the paper (Karras et al. 2018, CelebA-HQ): 4 -> 1024, 800k images per phase at batch 16,
        # 512 channels up to 64 x 64; for RGB data given with --data (the paper lowers the batch at
        # high resolutions for memory: use trainer.grad_accum)
        "paper": {
            "trainer": {"max_steps": 1_000_000, "batch_size": 16, "lr_g": LR, "lr_d": LR, "betas": BETAS,
                        "ema_decay": 0.999, "checkpoint_every": 5000, "eval_every": 10000, "sample_every": 5000,
                        "log_every": 100},
            "model": {"resolution": 1024, "start_resolution": 4, "phase_steps": 50_000, "z_dim": 512,
                      "channel_base": 32768, "channel_max": 512},
            "data": {"channels": 3, "augment": "xflip"},
            "eval": {"n_samples": 50_000, "val_samples": 10_000, "batch_size": 32},
        },
    }
