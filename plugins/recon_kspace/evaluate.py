"""Evaluation of ``mri_kspace``: the fastMRI metrics plus the high-frequency error norm (HFEN).

NMSE, PSNR, SSIM, ST-LPIPS and patch KID come from core's paired evaluation in the ``fastmri``
convention (per volume, then the mean over volumes). :func:`hfen` is registered as the metric
``hfen`` (``recon_kspace.register_metrics``) and listed in the task's ``metrics``, so the same
evaluation pass reports it for the model and every baseline:

    HFEN = ||LoG(pred) - LoG(gt)||_2 / ||LoG(gt)||_2

over the whole volume, with LoG the 2D Laplacian of Gaussian of each slice, sigma 1.5 pixels on
a 15x15 support (Ravishankar & Bresler, *MR image reconstruction from highly undersampled
k-space data by dictionary learning*, IEEE TMI 30(5), 2011). It measures the error in edges
and fine texture, which NMSE/SSIM weigh little, so it separates a sharper (adversarial)
reconstruction from a smoother one. ``scipy.ndimage.gaussian_laplace`` computes the LoG
(separable Gaussian-derivative kernels, reflect boundary); lower is better.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_laplace

HFEN_SIGMA = 1.5
HFEN_RADIUS = 7  # 15x15 support, as in Ravishankar & Bresler 2011


def log_filter(images: np.ndarray) -> np.ndarray:
    """2D Laplacian of Gaussian of each slice of ``(S, H, W)`` (or one ``(H, W)`` image), float64."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 2:
        images = images[None]
    return np.stack([gaussian_laplace(s, HFEN_SIGMA, mode="reflect", truncate=HFEN_RADIUS / HFEN_SIGMA)
                     for s in images])


def hfen(gt: np.ndarray, pred: np.ndarray) -> float:
    """HFEN of a volume ``(S, H, W)`` (or an image ``(H, W)``); NaN when ``LoG(gt)`` is zero."""
    num = float(np.sum(log_filter(np.asarray(pred, np.float64) - np.asarray(gt, np.float64)) ** 2))
    den = float(np.sum(log_filter(gt) ** 2))
    return float(np.sqrt(num / den)) if den > 0 else float("nan")
