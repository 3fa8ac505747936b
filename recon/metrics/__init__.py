"""Metrics with pinned conventions: one implementation for validation, ``recon eval`` and
the benchmarks.

Paired (``convention="sr"`` = BasicSR/MATLAB Y channel, ``"fastmri"`` = fastMRI
evaluate.py)::

    psnr(gt, pred, convention, *, scale=0) -> float
    ssim(gt, pred, convention, *, scale=0) -> float
    nmse(gt, pred) -> float
    image_metrics(gt, pred, convention, *, scale=0) -> {"psnr", "ssim", "nmse"}
    rgb_to_y, CONVENTIONS

Perceptual and generative: ``LPIPS``, ``lpips``, ``lpips_status``; ``STLPIPS``,
``st_lpips``, ``st_lpips_status`` (shift-tolerant LPIPS, offline); ``patch_distribution``
(patch KID/FID of paired outputs); ``frechet_distance``,
``fid_from_features``, ``kid``, ``inception_score``, ``InceptionFeatureExtractor``,
``inception_status``, ``FeatureStatsCache``. Anatomical plausibility of generated brain
images: ``tissue_thresholds``, ``anatomy_properties``, ``anatomy_distances``,
``TissueThresholds``. FID/KID per class of a conditional generator: ``class_scores``,
``class_key``, ``ClassScores``.

Per-unit scoring and averaging (per volume or per image) is done by the one evaluation loop,
:mod:`recon.evaluation`, which also adds the metrics a plugin registers (``eval.metrics``).

Names are resolved lazily, so ``import recon.metrics`` costs only what is used
(LPIPS and Inception pull in torchvision); ``__init__.pyi`` gives type checkers the
eager view.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "psnr": "functional",
    "ssim": "functional",
    "nmse": "functional",
    "image_metrics": "functional",
    "rgb_to_y": "color",
    "CONVENTIONS": "conventions",
    "IMAGE_CONVENTIONS": "conventions",
    "describe": "conventions",
    "LPIPS": "perceptual",
    "lpips": "perceptual",
    "lpips_status": "perceptual",
    "STLPIPS": "st_lpips",
    "st_lpips": "st_lpips",
    "st_lpips_status": "st_lpips",
    "patch_distribution": "patch_kid",
    "frechet_distance": "frechet",
    "fid_from_features": "frechet",
    "feature_stats": "frechet",
    "kid": "frechet",
    "inception_score": "frechet",
    "InceptionFeatureExtractor": "inception",
    "inception_status": "inception",
    "FeatureStats": "cache",
    "FeatureStatsCache": "cache",
    "hash_data": "cache",
    "TissueThresholds": "anatomy",
    "tissue_thresholds": "anatomy",
    "anatomy_properties": "anatomy",
    "anatomy_distances": "anatomy",
    "ClassScores": "per_class",
    "class_key": "per_class",
    "class_scores": "per_class",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'recon.metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"recon.metrics.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

