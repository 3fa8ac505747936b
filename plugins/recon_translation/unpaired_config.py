"""Config sections of ``mri_translation_unpaired`` (CycleGAN): ``model``, ``data`` and ``loss``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from recon.api import LossConfig, ranged
from recon_translation.config import TranslationDataConfig, TranslationModelConfig


@dataclass
class UnpairedModelConfig(TranslationModelConfig):
    """Two generators (A->B, B->A) of one architecture and two PatchGANs (one per domain).

    ``generator``: ``unet`` (pix2pix's U-Net, ``num_downs``, ``channels``) or ``resnet``
    (CycleGAN's ResNet generator: ``resnet_blocks`` residual blocks at 1/4 resolution, width
    ``channels``; 9 blocks and 64 channels is CycleGAN's ``resnet_9blocks``).
    ``output``: ``tanh`` (CycleGAN, mapped to [0, 1]), ``linear``, or ``pointwise_residual``:
    a per-pixel intensity map (a 1x1-convolution MLP of ``pointwise_channels`` hidden units,
    i.e. any learned intensity lookup) plus a spatial correction from the generator whose last
    layer starts at zero, ``G(x) = P(x) + N(x)``; ``quantile_residual``: both corrections added to
    the unpaired quantile map fitted on the training images (``Q_AB`` for ``G_AB``, its inverse
    for ``G_BA``; :mod:`recon_translation.quantile_map`), ``G(x) = Q(x) + P(x) + N(x)``, ``P``'s
    last layer also starting at zero, so the untrained generators *are* that map.
    ``zero_background``: ``G(x)`` set to 0 beyond ``background_margin`` pixels of the source's signal.
    """

    generator: Literal["unet", "resnet"] = "unet"
    resnet_blocks: int = ranged(9, ge=1)
    output: Literal["tanh", "linear", "pointwise_residual", "quantile_residual"] = "tanh"  # type: ignore[assignment]
    # the unpaired quantile map's direction (baseline and quantile_residual): auto = by patch statistics
    quantile_polarity: Literal["auto", "increasing", "decreasing"] = "auto"
    # pixels below this fraction of a domain's maximum are left out of its quantiles (background)
    quantile_floor: float = ranged(0.1, ge=0, lt=1)
    pointwise_channels: int = ranged(32, ge=1)
    # outputs are 0 farther than background_margin pixels from any source signal (air has no signal
    # in any contrast)
    zero_background: bool = False
    background_margin: int = ranged(3, ge=0)
    norm: Literal["batch", "instance", "none"] = "instance"
    d_norm: Literal["batch", "instance", "none"] = "instance"


@dataclass
class UnpairedDataConfig(TranslationDataConfig):
    """Unpaired training images of domain A (``source_contrast``) and B (``target``).

    Built-in ``mni152`` or a pairs manifest (``--data pairs.csv``): the training split is cut in
    two disjoint parts -- the first half of its slab (or of its subjects) gives the A images,
    the second half the B images, ``domain_gap`` slices apart -- so no training pair is ever
    aligned; evaluation uses the aligned test pairs, exactly those of ``mri_translation``.
    ``domain_a`` / ``domain_b``: folders (or single files) of your own unpaired images of each
    contrast for training instead; evaluation still uses the aligned test pairs of
    ``data.source``.
    """

    domain_a: str = ""
    domain_b: str = ""
    domain_gap: int = ranged(8, ge=0)  # slices left out between the A and B halves of a slab


@dataclass
class CycleLossConfig(LossConfig):
    """CycleGAN's objective (Zhu et al. 2017): LSGAN, cycle lambda = 10, identity 0.5 lambda.

    ``adversarial`` weighs each generator's adversarial term, ``cycle`` the L1 cycle-consistency
    term of both directions, ``identity`` the L1 identity term (``G_AB(b) ~ b``, ``G_BA(a) ~ a``).
    ``l1``/``l2``/``perceptual``/``artifact`` compare with an aligned target and are refused: unpaired
    training has none.
    """

    gan_type: str = "lsgan"
    adversarial: float = 1.0
    l1: float = 0.0
    cycle: float = ranged(10.0, ge=0)
    # steps over which the cycle weight ramps linearly from 0 to ``cycle`` (0: constant): early on
    # the adversarial terms choose the mapping, before the cycle terms lock it in
    cycle_warmup: int = ranged(0, ge=0)
    identity: float = ranged(5.0, ge=0)
