"""``loss.d_augment``: the augmentation of every discriminator input, chosen by config for any task.

Two families (Karras et al. 2020 and Zhao et al. 2020, both for GANs trained on little data):

- a DiffAugment policy, comma-separated names of :data:`recon.augment.POLICIES`
  (``"translation,cutout"``): fixed transforms on every D input;
- ``"ada"`` or ``"ada:PRESET"`` (PRESET one of :data:`recon.augment.PRESETS`, default
  ``bgc``): adaptive discriminator augmentation, whose probability ``p`` starts at 0 and
  follows the overfitting heuristic ``r_t = E[sign(D(real))]`` towards ``loss.ada_target``,
  moving at most 1 per ``loss.ada_speed_kimg`` thousand images.

Either is applied to D's real and generated inputs alike, in both phases; a conditional D's
(image, condition) channels are transformed together, so the pair stays aligned. Images
are 2D: ``(N, C, H, W)`` (a volumetric task refuses ``loss.d_augment``).
"""

from __future__ import annotations

from typing import Any

from torch import nn

ADA = "ada"


def parse_d_augment(text: str) -> tuple[str, tuple[str, ...]]:
    """``"translation,cutout"`` -> ``("diffaugment", ("translation", "cutout"))``;
    ``"ada"`` / ``"ada:bg"`` -> ``("ada", ("bgc",))`` / ``("ada", ("bg",))``; raises ValueError
    for an unknown name or preset."""
    from recon.augment.ada import PRESETS
    from recon.augment.diffaugment import parse_policy

    name, _, preset = text.strip().partition(":")
    if name.strip() == ADA:
        preset = preset.strip() or "bgc"
        if preset not in PRESETS:
            raise ValueError(f"unknown ADA preset '{preset}'; valid: {', '.join(PRESETS)}")
        return ADA, (preset,)
    if preset:
        raise ValueError(f"'{text}': only ada takes a ':PRESET' suffix")
    return "diffaugment", parse_policy(text)


def build_d_augment(loss: Any, value_range: tuple[float, float] = (0.0, 1.0)) -> nn.Module:
    """The module for ``loss.d_augment`` (non-empty): :class:`recon.augment.DiffAugment` or an
    adaptive :class:`recon.augment.AdaptiveAugment` for images in ``value_range``."""
    from recon.augment.ada import AdaptiveAugment
    from recon.augment.diffaugment import DiffAugment

    kind, names = parse_d_augment(loss.d_augment)
    if kind == ADA:
        return AdaptiveAugment(p=0.0, target=float(loss.ada_target), speed_kimg=float(loss.ada_speed_kimg),
                               preset=names[0], value_range=value_range)
    return DiffAugment(loss.d_augment)
