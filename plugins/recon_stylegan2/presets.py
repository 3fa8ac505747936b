"""Presets of ``stylegan2``: ``smoke`` (seconds), ``default`` (CPU minutes), ``paper`` (config F, GPUs).

Optimiser: Adam with ``betas = (0, 0.99)``; ``lr = 0.0025`` (stylegan2-ada's value below
1024 px) and 0.002 for config F. StyleGAN2 rescales Adam by ``c = k / (k + 1)`` for lazy
regularization (paper App. B) because it runs the penalty as an *extra* optimizer step every
``k`` steps; the core trainer folds the penalty (times ``k``) into the regular step instead,
so there are exactly ``k`` steps per ``k`` minibatches and no rescaling applies.

EMA: stylegan2-ada keeps an EMA of G with a half-life of ``ema_kimg`` thousand images
(10 for config F): ``trainer.ema_decay = 0.5 ** (batch / (ema_kimg * 1000))``
(:func:`recon_stylegan2.config.ema_decay_for`): 0.99778 at config F's batch of 32. The CPU
default sees only tens of thousands of images, so its half-life is 1 kimg (decay 0.989 at
batch 16), after ``ema_start`` steps in which the EMA copies the weights (stylegan2-ada's
``ema_rampup`` serves the same purpose).
"""

from __future__ import annotations

from typing import Any

from recon_stylegan2.config import ema_decay_for

REG_INTERVAL = 16  # lazy R1 every 16 steps (path length: loss.g_reg_interval, 4)
BETAS = [0.0, 0.99]


def presets() -> dict[str, dict[str, Any]]:
    """Fresh nested overrides per preset (callers may mutate them)."""
    return {
        # seconds on a CPU: 16x16, tiny widths, every periodic action and both lazy penalties exercised
        "smoke": {
            "trainer": {"max_steps": 6, "batch_size": 4, "lr_g": 0.0025, "lr_d": 0.0025, "betas": BETAS,
                        "checkpoint_every": 3, "eval_every": 3, "sample_every": 3, "log_every": 1,
                        "ema_decay": 0.9},
            "model": {"resolution": 16, "z_dim": 32, "w_dim": 32, "mapping_layers": 2,
                      "channel_base": 256, "channel_max": 32},
            "data": {"source": "faces"},
            "loss": {"r1_gamma": 1.0, "reg_interval": 2, "g_reg_interval": 2, "pl_weight": 2.0},
            "ada": {"speed_kimg": 0.1, "interval": 1},
            "eval": {"n_samples": 8, "val_samples": 4, "max_images": 8, "batch_size": 8},
        },
        # the CPU default: 32x32 on the 200 lfw faces (130 for training), ADA on, minutes on 2 cores.
        # Narrow networks and stylegan2-ada's small-data choices (2 mapping layers, no style mixing,
        # R1 gamma near its 0.0002 R^2 / batch heuristic); ADA's p may move every 4 steps.
        "default": {
            "trainer": {"max_steps": 2000, "batch_size": 16, "lr_g": 0.0025, "lr_d": 0.0025, "betas": BETAS,
                        "ema_decay": round(ema_decay_for(16, 1.0), 5), "ema_start": 200,
                        "checkpoint_every": 500, "eval_every": 0, "sample_every": 500, "log_every": 50},
            "model": {"resolution": 32, "z_dim": 64, "w_dim": 64, "mapping_layers": 2,
                      "channel_base": 1024, "channel_max": 64, "style_mixing_prob": 0.0,
                      "truncation_psi": 0.7},
            "data": {"source": "faces", "augment": "xflip"},
            "loss": {"r1_gamma": 0.02, "reg_interval": REG_INTERVAL, "pl_weight": 2.0},
            "ada": {"target": 0.6, "speed_kimg": 5.0, "p_max": 0.85},
            "eval": {"n_samples": 300, "val_samples": 100, "batch_size": 50},
        },
        # StyleGAN2 config F (Karras et al. 2020) at 1024x1024, 25M images, + ADA (target 0.6);
        # for FFHQ-like RGB data given with --data (the built-in faces are gray 25x25)
        "paper": {
            "trainer": {"max_steps": 781_250, "batch_size": 32, "lr_g": 0.002, "lr_d": 0.002, "betas": BETAS,
                        "ema_decay": round(ema_decay_for(32, 10.0), 5), "ema_start": 0,
                        "checkpoint_every": 5000, "eval_every": 5000, "sample_every": 5000, "log_every": 100},
            "model": {"resolution": 1024, "z_dim": 512, "w_dim": 512, "mapping_layers": 8,
                      "channel_base": 32768, "channel_max": 512, "style_mixing_prob": 0.9,
                      "truncation_psi": 0.7},
            "data": {"channels": 3, "augment": "xflip"},
            "loss": {"gan_type": "ns", "r1_gamma": 10.0, "reg_interval": REG_INTERVAL, "pl_weight": 2.0},
            "ada": {"target": 0.6, "speed_kimg": 500.0, "p_max": 0.85},
            "eval": {"n_samples": 50_000, "val_samples": 10_000, "batch_size": 32},
        },
    }
