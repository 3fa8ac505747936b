"""Presets of ``inpainting``: ``smoke`` (seconds), ``default`` (CPU minutes), ``paper`` (GPU), and
DeepFill v2's gated convolutions, ``gated`` (CPU minutes) and ``gated-smoke`` (seconds)."""

from __future__ import annotations

import copy
from typing import Any

#: DeepFill v2 (Yu et al. 2019) at CPU scale: gated-convolution coarse network, SN-PatchGAN that
#: sees the mask, hinge loss, free-form training and test holes (rectangles or brush strokes)
GATED: dict[str, Any] = {
    "model": {"arch": "gated", "gated_channels": 24, "d_arch": "sn_patchgan", "d_channels": 32, "d_layers": 4},
    "mask": {"kind": "mixed", "fill": "zero"},
    "loss": {"gan_type": "hinge"},
}


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for section, values in extra.items():
        out.setdefault(section, {}).update(copy.deepcopy(values))
    return out


def presets() -> dict[str, dict[str, Any]]:
    """Fresh nested overrides per preset (callers may mutate them)."""
    base = _presets()
    base["gated"] = _merged(base["default"], GATED)
    base["gated-smoke"] = _merged(base["smoke"], _merged(GATED, {
        "model": {"gated_channels": 4, "d_channels": 8, "d_layers": 3}}))
    return base


def _presets() -> dict[str, dict[str, Any]]:
    return {
        # seconds on a CPU: tiny networks, a few steps, every periodic action exercised
        "smoke": {
            "trainer": {"max_steps": 6, "batch_size": 4, "checkpoint_every": 3, "eval_every": 3,
                        "sample_every": 3, "log_every": 1, "d_warmup_steps": 2, "ema_decay": 0.9},
            "model": {"features": [4, 4, 8, 8, 16, 4], "d_channels": 8, "d_layers": 2},
            "data": {"patch_size": 32, "eval_patches": 2},
            "loss": {"adversarial": 0.01, "r1_gamma": 1.0, "reg_interval": 2},
            "eval": {"max_images": 4, "lpips": False, "patch_kid": False},
        },
        # the CPU default: minutes on 2 cores; Pathak's centre hole (half the side) on 64x64 patches,
        # pre-filled by biharmonic interpolation (the classical baseline), the U-Net learns a
        # residual correction of it
        "default": {
            "trainer": {"max_steps": 1200, "batch_size": 16, "lr_g": 1e-3, "lr_d": 2e-4,
                        "lr_schedule": "cosine", "d_warmup_steps": 200, "ema_decay": 0.995,
                        "checkpoint_every": 400, "eval_every": 400, "sample_every": 400, "log_every": 20},
            "model": {"arch": "unet", "features": [16, 32, 64, 128, 128, 16], "norm": "instance",
                      "residual": True, "d_channels": 32, "d_layers": 3},
            "data": {"patch_size": 64, "eval_patches": 64},  # 128 test patches (2 photographs)
            "mask": {"kind": "center", "size": 0.5, "fill": "biharmonic"},
            "loss": {"gan_type": "ns", "adversarial": 0.01, "l1": 1.0},
        },
        # Pathak et al. 2016: 128x128 images, 64x64 centre hole, context encoder with a 4000-d
        # bottleneck, L2 on the hole 0.999 + adversarial 0.001, Adam 2e-4 (0.5, 0.999), batch 64
        "paper": {
            "trainer": {"max_steps": 100_000, "batch_size": 64, "lr_g": 2e-3, "lr_d": 2e-4,
                        "betas": [0.5, 0.999], "lr_schedule": "constant", "d_warmup_steps": 0,
                        "checkpoint_every": 5000, "eval_every": 5000, "sample_every": 5000},
            "model": {"arch": "context_encoder", "ce_channels": 64, "ce_bottleneck": 4000,
                      "d_channels": 64, "d_layers": 3, "d_norm": "batch"},
            "data": {"patch_size": 128},
            "mask": {"kind": "center", "size": 0.5, "fill": "mean"},
            "loss": {"gan_type": "ns", "adversarial": 0.001, "l1": 0.0, "l2": 0.999},
        },
    }
