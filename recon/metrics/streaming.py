"""Streaming forms of the paired metrics: accumulate per image (``sr``) or per volume
(``fastmri``), then :meth:`compute` the mean, as validation loops and ``recon eval`` do."""

from __future__ import annotations

from typing import Any

import numpy as np

from recon.errors import UsageError
from recon.metrics import fastmri, sr
from recon.metrics._inputs import as_pair, check_scale
from recon.metrics.conventions import check_convention


class _PairedMetric:
    """Base: ``update(gt, pred)`` scores each unit, ``compute()`` averages them."""

    name = ""

    def __init__(self, convention: str, *, scale: int = 0) -> None:
        self.convention = check_convention(convention)
        self.scale = check_scale(scale)
        if self.convention == "fastmri" and self.scale:
            raise UsageError("scale (border crop) applies to the sr convention only")
        self.values: list[float] = []

    def _score(self, gt: np.ndarray, pred: np.ndarray) -> float:
        raise NotImplementedError

    def update(self, gt: Any, pred: Any) -> list[float]:
        """Score one unit and store it.

        ``sr``: an image ``(C, H, W)``/``(H, W)`` or a batch ``(N, C, H, W)`` (one value per
        image); ``fastmri``: one volume ``(slices, H, W)`` or slice ``(H, W)``.

        Returns:
            the values just added.
        """
        g, p = as_pair(gt, pred)
        if self.convention == "sr" and g.ndim == 4:
            new = [self._score(g[i], p[i]) for i in range(g.shape[0])]
        else:
            new = [self._score(g, p)]
        self.values.extend(new)
        return new

    def compute(self) -> float:
        """Mean over every unit seen since the last :meth:`reset`."""
        if not self.values:
            raise UsageError(f"{type(self).__name__}.compute() called before any update()")
        return float(np.mean(self.values))

    def reset(self) -> None:
        self.values.clear()

    def __len__(self) -> int:
        return len(self.values)


class PSNRMetric(_PairedMetric):
    """Streaming PSNR (dB) in the ``sr`` or ``fastmri`` convention; ``inf`` values propagate."""

    name = "psnr"

    def _score(self, gt: np.ndarray, pred: np.ndarray) -> float:
        if self.convention == "sr":
            return sr.psnr_sr(gt, pred, self.scale)
        return fastmri.psnr_fastmri(gt, pred)


class SSIMMetric(_PairedMetric):
    """Streaming SSIM in the ``sr`` or ``fastmri`` convention."""

    name = "ssim"

    def _score(self, gt: np.ndarray, pred: np.ndarray) -> float:
        if self.convention == "sr":
            return sr.ssim_sr(gt, pred, self.scale)
        return fastmri.ssim_fastmri(gt, pred)


class NMSEMetric(_PairedMetric):
    """Streaming NMSE on the raw inputs (per image for ``sr``, per volume for ``fastmri``)."""

    name = "nmse"

    def _score(self, gt: np.ndarray, pred: np.ndarray) -> float:
        return fastmri.nmse(gt, pred)
