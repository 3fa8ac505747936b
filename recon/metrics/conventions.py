"""Named metric conventions, written verbatim into ``eval.json``'s ``"conventions"``.

``CONVENTIONS[name]`` is a JSON-serialisable dict ``{metric: description}``; a task picks
``"sr"`` or ``"fastmri"`` for its paired metrics, and generative tasks add the
``"generative"`` entry (FID/KID/IS) together with the weights actually used
(:attr:`InceptionFeatureExtractor.weights_name`) and the sample counts.
"""

from __future__ import annotations

from typing import Any

from recon.errors import UsageError

#: Conventions understood by :func:`psnr`, :func:`ssim` and :func:`image_metrics`.
IMAGE_CONVENTIONS: tuple[str, ...] = ("sr", "fastmri")

CONVENTIONS: dict[str, dict[str, str]] = {
    "sr": {
        "reference": "BasicSR calculate_psnr / calculate_ssim with test_y_channel=True "
        "(MATLAB rgb2ycbcr Y channel)",
        "input": "float RGB or gray in [0,1], channel-first; no 8-bit quantisation",
        "psnr": "Y channel BT.601 [0,255] (Y = 16 + 65.481 R + 128.553 G + 24.966 B; gray x255), "
        "data_range 255, crop=scale pixels per border, mean over images",
        "ssim": "same Y channel and crop; 11x11 Gaussian window sigma 1.5, K1 0.01, K2 0.03, "
        "valid filtering, population variances (BasicSR _ssim), mean over images",
        "nmse": "||gt - pred||^2 / ||gt||^2 on the raw inputs (no Y conversion, no crop)",
    },
    "fastmri": {
        "reference": "fastMRI evaluate.py (skimage.metrics)",
        "input": "magnitude volumes (slices, H, W); metrics per volume, then mean over volumes",
        "psnr": "skimage peak_signal_noise_ratio over the volume, data_range = gt.max()",
        "ssim": "skimage structural_similarity per slice (7x7 uniform window, K1 0.01, K2 0.03, "
        "sample covariance), data_range = volume gt.max(), mean over slices",
        "nmse": "||gt - pred||^2 / ||gt||^2 over the volume",
    },
    "generative": {
        "features": "InceptionV3 pool3 (2048-d) and logits; images in [0,1] quantised to "
        "8 bits, gray repeated to 3 channels, bilinear resize to 299x299",
        "fid": "Frechet distance of Gaussians fitted to pool3 features "
        "(covariance with N-1; trace sqrt via symmetric eigendecomposition)",
        "kid": "unbiased MMD^2, kernel (x.y/d + 1)^3, mean and std over 100 subsets of "
        "min(1000, n) samples, seed 0",
        "is": "Inception Score exp(E KL(p(y|x) || p(y))) over 10 splits, mean and std",
    },
    "lpips": {
        "lpips": "LPIPS v0.1 (lpips package linear heads, torchvision ImageNet backbone, alex "
        "unless stated), inputs [0,1] scaled to [-1,1], 1-channel repeated to 3, mean over images",
    },
}


def check_convention(convention: Any) -> str:
    """Return ``convention`` if it is one of :data:`IMAGE_CONVENTIONS`, else UsageError."""
    if convention not in IMAGE_CONVENTIONS:
        raise UsageError(
            f"unknown metric convention {convention!r}; valid: {', '.join(IMAGE_CONVENTIONS)}"
        )
    return str(convention)


def describe(convention: str, **details: Any) -> dict[str, Any]:
    """A copy of ``CONVENTIONS[convention]`` with ``name`` and run details added.

    Example: ``describe("sr", crop_border=4)`` or
    ``describe("generative", weights=extractor.weights_name, n_real=10000, n_fake=10000)``.
    """
    if convention not in CONVENTIONS:
        raise UsageError(f"unknown convention {convention!r}; valid: {', '.join(CONVENTIONS)}")
    return {"name": convention, **CONVENTIONS[convention], **details}
