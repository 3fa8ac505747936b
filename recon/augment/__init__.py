"""Differentiable augmentation for discriminators: ADA (adaptive discriminator augmentation).

``from recon.augment import AdaptiveAugment`` imports torch and kornia; ``import recon``
does not import this package.
"""

from recon.augment.ada import PRESETS, AdaptiveAugment, AugmentPipe

__all__ = ["AdaptiveAugment", "AugmentPipe", "PRESETS"]
