"""Classical baselines of ``mri_translation``, fitted on the *training* pairs only.

- ``histogram-matched source`` (*the* baseline): each source slice histogram-matched
  (``skimage.exposure.match_histograms``) to the target contrast's intensity distribution
  over the training split -- never to the test slice's own target, which would leak the
  answer. The training distribution is summarised by ``n_quantiles`` evenly spaced quantiles
  of every training target pixel: a reference with the same cumulative distribution, and
  small enough that matching a slice costs milliseconds.
- ``intensity lookup``: a 1-D regression ``target ~ f(source)``, the mean training target
  intensity in each of ``n_bins`` source-intensity bins (linear between bin centres). It is
  the best a pixel-wise intensity map can do in the L2 sense; unlike histogram matching it
  can invert the contrast (T1: white matter bright, T2: dark).

The fitted statistics live in :class:`IntensityModels`, a module of buffers that the
generator carries, so they are saved in every checkpoint and ``recon eval --data`` scores the
baselines of the training data, not of the data being evaluated.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

HISTOGRAM = "histogram-matched source"
LOOKUP = "intensity lookup"
_MAX_PIXELS = 8_000_000  # pixels pooled for the quantiles (a fixed stride beyond that)


class IntensityModels(nn.Module):
    """Training-set statistics of the baselines, as buffers (saved with the generator).

    Buffers: ``reference`` ``(n_quantiles,)`` quantiles of the training targets,
    ``lookup`` ``(n_bins,)`` mean target per source bin over [0, 1], ``fitted`` (0 or 1).
    """

    reference: Tensor
    lookup: Tensor
    fitted: Tensor

    def __init__(self, n_quantiles: int = 2048, n_bins: int = 256) -> None:
        super().__init__()
        self.register_buffer("reference", torch.zeros(n_quantiles))
        self.register_buffer("lookup", torch.zeros(n_bins))
        self.register_buffer("fitted", torch.zeros(()))  # 1 once fitted (float: every backend broadcasts it)

    @torch.no_grad()
    def fit(self, sources: Sequence[np.ndarray], targets: Sequence[np.ndarray]) -> "IntensityModels":
        """Fit on aligned training images ``(C, H, W)`` (source and target pixel by pixel)."""
        if not targets:
            raise ValueError("no training pairs to fit the baselines on")
        total = sum(t.size for t in targets)
        stride = max(1, math.ceil(total / _MAX_PIXELS))
        pooled = np.concatenate([np.asarray(t, dtype=np.float64).reshape(-1)[::stride] for t in targets])
        probs = np.linspace(0.0, 1.0, self.reference.numel())
        self.reference.copy_(torch.from_numpy(np.quantile(pooled, probs)).float())
        self.lookup.copy_(torch.from_numpy(fit_lookup(sources, targets, self.lookup.numel())).float())
        self.fitted.fill_(1.0)
        return self

    @property
    def is_fitted(self) -> bool:
        return bool(self.fitted > 0)

    def histogram_matched(self, source: Tensor) -> Tensor:
        """``(N, C, H, W)`` source slices matched one by one to the training target histogram."""
        from skimage.exposure import match_histograms

        reference = self.reference.detach().cpu().numpy()[None].astype(np.float64)  # (1, K): same ndim as a slice
        array = source.detach().float().cpu().numpy()
        out = np.empty_like(array)
        for n in range(array.shape[0]):
            for c in range(array.shape[1]):
                out[n, c] = match_histograms(array[n, c], reference)
        return torch.from_numpy(out).to(source.device)

    def intensity_lookup(self, source: Tensor) -> Tensor:
        """``(N, C, H, W)``: the fitted 1-D intensity map applied to every pixel (on ``source``'s
        device), linear between bin centres and constant beyond them -- ``np.interp`` on
        :func:`bin_centres` -- so the generator can add its residual to it."""
        n = self.lookup.numel()
        pos = (source.clamp(0, 1) * n - 0.5).clamp(0, n - 1)
        low = pos.floor()
        frac = pos - low
        low = low.long()
        high = (low + 1).clamp(max=n - 1)
        lookup = self.lookup.to(source.dtype)
        return lookup[low] * (1 - frac) + lookup[high] * frac


def bin_centres(n_bins: int) -> np.ndarray:
    """Centres of ``n_bins`` equal bins over [0, 1]."""
    return (np.arange(n_bins) + 0.5) / n_bins


def fit_lookup(sources: Sequence[np.ndarray], targets: Sequence[np.ndarray], n_bins: int) -> np.ndarray:
    """Mean target intensity per source-intensity bin over [0, 1]; empty bins are filled by
    linear interpolation between their non-empty neighbours (constant beyond the ends).

    Returns:
        ``(n_bins,)`` float64.
    """
    sums = np.zeros(n_bins)
    counts = np.zeros(n_bins)
    for src, tgt in zip(sources, targets, strict=True):
        s = np.clip(np.asarray(src, dtype=np.float64).reshape(-1), 0.0, 1.0)
        index = np.minimum((s * n_bins).astype(np.int64), n_bins - 1)
        sums += np.bincount(index, weights=np.asarray(tgt, dtype=np.float64).reshape(-1), minlength=n_bins)
        counts += np.bincount(index, minlength=n_bins)
    filled = counts > 0
    if not filled.any():
        raise ValueError("no training pixels to fit the intensity lookup on")
    centres = bin_centres(n_bins)
    means = sums[filled] / counts[filled]
    return np.interp(centres, centres[filled], means)
