"""Baselines of ``mri_translation_unpaired``: what can be fitted without pairs, and one oracle.

- ``histogram-matched source`` (*the* baseline, fitted honestly without pairs): each source
  slice histogram-matched to domain B's intensity distribution -- the quantiles of the **B
  training images only** (the second half of the training slab for the built-in data, or the
  ``data.domain_b`` folder). This is quantile matching between the two domains: it needs no
  pair, and it is monotone, so it cannot invert a contrast.
- ``quantile map (unpaired)``: A's foreground quantiles carried onto B's, increasing or
  decreasing as patch statistics choose (:mod:`recon_translation.quantile_map`); fitted on the
  A and the B training images separately. The generator of ``model.output=quantile_residual``
  corrects it.
- ``intensity lookup (paired oracle)``: ``mri_translation``'s 1-D lookup fitted on the
  **aligned** training pairs of the same split (the whole training slab). The unpaired model
  never sees these pairs; the row is the paired reference it is compared with, scored on the
  same test slices. Absent when the training data are two unpaired folders (there are no
  pairs to fit it on).

The statistics are buffers of the generator (:class:`UnpairedIntensity`), so every checkpoint
carries them and ``recon eval --data`` scores the baselines of the training data.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from recon_translation.baselines import HISTOGRAM, IntensityModels

LOOKUP_ORACLE = "intensity lookup (paired oracle)"
QUANTILE = "quantile map (unpaired)"

__all__ = ["HISTOGRAM", "LOOKUP_ORACLE", "QUANTILE", "UnpairedIntensity"]


class UnpairedIntensity(IntensityModels):
    """:class:`IntensityModels` whose ``reference`` comes from domain B alone; ``paired`` (0/1)
    says whether the oracle ``lookup`` was fitted on aligned pairs. The unpaired quantile map:
    ``quantiles_a``, ``quantiles_b`` ``(n_quantiles,)`` foreground quantiles of each domain,
    ``polarity`` (+1 increasing, -1 decreasing)."""

    paired: Tensor
    quantiles_a: Tensor
    quantiles_b: Tensor
    polarity: Tensor

    def __init__(self, n_quantiles: int = 2048, n_bins: int = 256) -> None:
        super().__init__(n_quantiles, n_bins)
        self.register_buffer("paired", torch.zeros(()))
        self.register_buffer("quantiles_a", torch.linspace(0, 1, n_quantiles))
        self.register_buffer("quantiles_b", torch.linspace(0, 1, n_quantiles))
        self.register_buffer("polarity", torch.ones(()))

    def quantile_map(self, x: Tensor, direction: str = "ab") -> Tensor:
        """``(N, C, H, W)`` mapped A -> B (``ab``) or B -> A (``ba``, the inverse); 0 stays 0;
        differentiable in ``x``."""
        from recon_translation.quantile_map import apply_map

        source, target = (self.quantiles_a, self.quantiles_b) if direction == "ab" else (self.quantiles_b,
                                                                                          self.quantiles_a)
        return apply_map(x, source, target, float(self.polarity))

    @property
    def has_oracle(self) -> bool:
        return bool(self.paired > 0)

    @torch.no_grad()
    def fit_unpaired(self, domain_a: Sequence[np.ndarray], domain_b: Sequence[np.ndarray],
                     sources: Sequence[np.ndarray] = (), targets: Sequence[np.ndarray] = (),
                     polarity: str = "auto", seed: int = 0, floor: float = 0.1) -> "UnpairedIntensity":
        """Quantiles of the B images ``(C, H, W)`` and the quantile map between the A and B
        images; the oracle lookup on aligned ``(sources, targets)`` when given (else the lookup
        stays unfitted)."""
        from recon_translation.quantile_map import fit_quantile_map

        qa, qb, sign, _ = fit_quantile_map(domain_a, domain_b, self.quantiles_a.numel(), seed, polarity, floor)
        self.quantiles_a.copy_(torch.from_numpy(qa).float())
        self.quantiles_b.copy_(torch.from_numpy(qb).float())
        self.polarity.fill_(sign)
        if sources:
            self.fit(sources, targets)  # lookup (and a reference overwritten below)
            self.paired.fill_(1.0)
        reference = IntensityModels(self.reference.numel(), self.lookup.numel()).fit(domain_b, domain_b).reference
        self.reference.copy_(reference)
        self.fitted.fill_(1.0)
        return self
