"""The ``sr`` convention: BasicSR / MATLAB PSNR and SSIM on the BT.601 Y channel.

Images are float RGB or gray in [0, 1], channel-first. RGB becomes MATLAB's Y in [16, 235]
(:func:`recon.metrics.color.rgb_to_y`), gray is multiplied by 255; ``scale`` pixels are
cropped from every border; PSNR uses data range 255; SSIM is BasicSR's ``_ssim``
(11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, "valid" filtering, population
variances) computed with ``kornia.metrics.ssim(padding="valid")``, which implements exactly
that formula. A batch ``(N, C, H, W)`` gives the mean of the per-image values (BasicSR
scores images one by one and averages).

No 8-bit quantisation is applied: BasicSR reads uint8 PNGs, so quantise predictions
yourself (``round(x * 255) / 255``) to reproduce tables computed from saved images.
"""

from __future__ import annotations

import math

import numpy as np

from recon.errors import UsageError
from recon.metrics._inputs import check_min_size
from recon.metrics.color import rgb_to_y

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
DATA_RANGE = 255.0


def to_y_batch(img: np.ndarray, name: str = "image") -> np.ndarray:
    """Map an ``sr`` input to the Y channel in [0, 255].

    Args:
        img: float64 ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)`` with C in {1, 3}, in [0, 1].

    Returns:
        ``(N, H, W)`` float64: BT.601 Y in [16, 235] for RGB, ``255 * value`` for gray.
    """
    if img.ndim == 2:
        img = img[None, None]
    elif img.ndim == 3:
        img = img[None]
    if img.ndim != 4 or img.shape[1] not in (1, 3):
        raise UsageError(
            f"sr convention expects channel-first (H, W), (C, H, W) or (N, C, H, W) with C in "
            f"{{1, 3}}, got {name} of shape {tuple(img.shape)}"
        )
    if img.shape[1] == 3:
        return rgb_to_y(img)
    return img[:, 0] * DATA_RANGE


def crop_border(y: np.ndarray, scale: int) -> np.ndarray:
    """Remove ``scale`` pixels from every border of ``(N, H, W)`` images."""
    if scale == 0:
        return y
    h, w = y.shape[-2:]
    if 2 * scale >= min(h, w):
        raise UsageError(f"cannot crop {scale} pixels from each border of a {h}x{w} image")
    return y[..., scale:-scale, scale:-scale]


def prepare(gt: np.ndarray, pred: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Y channel and border crop for both images: two ``(N, H', W')`` float64 arrays."""
    return crop_border(to_y_batch(gt, "gt"), scale), crop_border(to_y_batch(pred, "pred"), scale)


def psnr_sr(gt: np.ndarray, pred: np.ndarray, scale: int = 0) -> float:
    """BasicSR ``calculate_psnr(test_y_channel=True, crop_border=scale)``, mean over images.

    The formula is one line, so it stays in float64 NumPy (kornia's ``psnr`` and MONAI's
    ``PSNRMetric`` compute the same 10 log10(255^2 / MSE); the convention lives in the Y
    conversion and the crop above). Identical images give ``inf``.
    """
    y_gt, y_pred = prepare(gt, pred, scale)
    mse = ((y_gt - y_pred) ** 2).mean(axis=(1, 2))
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(DATA_RANGE**2 / mse)
    return float(values.mean()) if np.isfinite(values).all() else math.inf


def ssim_sr(gt: np.ndarray, pred: np.ndarray, scale: int = 0) -> float:
    """BasicSR ``calculate_ssim(test_y_channel=True, crop_border=scale)``, mean over images."""
    import torch
    from kornia.metrics import ssim as kornia_ssim

    y_gt, y_pred = prepare(gt, pred, scale)
    h, w = y_gt.shape[-2:]  # prepare() returns (N, H, W)
    check_min_size(h, w, SSIM_WINDOW, "sr SSIM (after the border crop)")
    ssim_map = kornia_ssim(
        torch.from_numpy(y_gt)[:, None],
        torch.from_numpy(y_pred)[:, None],
        SSIM_WINDOW,
        max_val=DATA_RANGE,
        padding="valid",
    )
    return float(ssim_map.mean(dim=(1, 2, 3)).mean())
