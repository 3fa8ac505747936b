"""The public paired-image metrics: :func:`psnr`, :func:`ssim`, :func:`nmse`,
:func:`image_metrics`, each dispatching to one named convention.

Inputs are NumPy arrays or torch tensors (any device); they are converted to float64
NumPy, validated (same shape, non-empty, finite) and scored. See
:mod:`recon.metrics.sr` and :mod:`recon.metrics.fastmri` for the exact definitions.
"""

from __future__ import annotations

from typing import Any

from recon.metrics import fastmri, sr
from recon.metrics._inputs import as_pair, check_scale
from recon.metrics.conventions import check_convention


def psnr(gt: Any, pred: Any, convention: str, *, scale: int = 0) -> float:
    """Peak signal-to-noise ratio in dB (``inf`` for identical inputs).

    Args:
        gt, pred: ``sr``: ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``, C in {1, 3}, in [0, 1];
            ``fastmri``: a volume ``(slices, H, W)`` or one slice ``(H, W)``.
        convention: ``"sr"`` (Y channel, data range 255, crop) or ``"fastmri"``
            (data_range = gt.max()).
        scale: ``sr`` only: pixels cropped from every border (the SR factor, usually).
    """
    g, p = _prepare(gt, pred, convention, scale)
    if convention == "sr":
        return sr.psnr_sr(g, p, scale)
    return fastmri.psnr_fastmri(g, p)


def ssim(gt: Any, pred: Any, convention: str, *, scale: int = 0) -> float:
    """Structural similarity (mean over images for ``sr``, over slices for ``fastmri``).

    Shapes and arguments as :func:`psnr`. ``sr``: BasicSR's 11x11 Gaussian SSIM on the Y
    channel; ``fastmri``: skimage's 7x7 uniform SSIM with data_range = volume max.
    """
    g, p = _prepare(gt, pred, convention, scale)
    if convention == "sr":
        return sr.ssim_sr(g, p, scale)
    return fastmri.ssim_fastmri(g, p)


def nmse(gt: Any, pred: Any) -> float:
    """Normalised MSE ||gt - pred||^2 / ||gt||^2 over all elements (any equal shapes)."""
    g, p = as_pair(gt, pred)
    return fastmri.nmse(g, p)


def image_metrics(gt: Any, pred: Any, convention: str, *, scale: int = 0) -> dict[str, float]:
    """``{"psnr", "ssim", "nmse"}`` of one image (batch) or volume in ``convention``.

    NMSE is computed on the raw inputs in both conventions (no Y conversion, no crop).
    """
    g, p = _prepare(gt, pred, convention, scale)
    if convention == "sr":
        return {"psnr": sr.psnr_sr(g, p, scale), "ssim": sr.ssim_sr(g, p, scale),
                "nmse": fastmri.nmse(g, p)}
    return {"psnr": fastmri.psnr_fastmri(g, p), "ssim": fastmri.ssim_fastmri(g, p),
            "nmse": fastmri.nmse(g, p)}


def _prepare(gt: Any, pred: Any, convention: str, scale: int) -> tuple[Any, Any]:
    """Validate the convention and ``scale`` and convert the pair to float64 arrays."""
    check_convention(convention)
    scale = check_scale(scale)
    if convention == "fastmri" and scale:
        from recon.errors import UsageError

        raise UsageError("scale (border crop) applies to the sr convention only")
    return as_pair(gt, pred)
