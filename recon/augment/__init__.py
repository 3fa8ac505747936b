"""Differentiable augmentation for discriminators: ADA (adaptive discriminator augmentation)
and DiffAugment (fixed policies, for every task through ``loss.d_augment``).

``from recon.augment import AdaptiveAugment`` imports torch and kornia; ``import recon``
does not import this package.
"""

from recon.augment.ada import PRESETS, AdaptiveAugment, AugmentPipe
from recon.augment.diffaugment import POLICIES, DiffAugment

__all__ = ["AdaptiveAugment", "AugmentPipe", "DiffAugment", "POLICIES", "PRESETS"]
