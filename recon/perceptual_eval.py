"""The perceptual side of a paired evaluation: ST-LPIPS per image and patch KID/FID per method.

:func:`recon.evaluation.evaluate_paired` scores every method with the task's distortion
metrics (PSNR, SSIM, NMSE); this module adds what shows the perception side of the
perception-distortion trade-off (Blau & Michaeli, CVPR 2018):

- ``st_lpips``: shift-tolerant LPIPS (AlexNet, vST0.0) of each output against its target,
  averaged per volume then over volumes (per image in the ``sr`` convention, after the same
  border crop as PSNR). When the run trains with the ST-LPIPS AlexNet loss, ``st_lpips_vgg``
  is added, so a score never comes only from the network the generator was trained on.
- ``kid_patch`` / ``kid_patch_std`` / ``fid_patch``: :mod:`recon.metrics.patch_kid` on the
  outputs and targets of the whole split (only when ``eval.patch_kid`` is on; the trainer's
  periodic validation leaves it out).

Weights that are missing (stlpips-pytorch not installed, no Inception file) leave the metric
out and say why in ``conventions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import Tensor

ST_LPIPS_CONVENTION = ("shift-tolerant LPIPS (Ghildyal & Liu 2022), {net} trunk, weights vST0.0 from the "
                       "stlpips-pytorch wheel; inputs [0,1] mapped to [-1,1], 1-channel repeated to 3; "
                       "{crop}; mean per volume, then over volumes; lower is better")


def st_lpips_nets(cfg: Any) -> list[str]:
    """The ST-LPIPS networks an evaluation reports: ``alex`` always, ``vgg`` too when the
    generator was trained with the ST-LPIPS AlexNet loss (the loss net never judges alone)."""
    if not getattr(cfg.eval, "st_lpips", True):
        return []
    loss = cfg.loss
    trained_on_alex = getattr(loss, "perceptual", 0) > 0 and getattr(loss, "perceptual_net", "alex") == "alex"
    return ["alex", "vgg"] if trained_on_alex else ["alex"]


def metric_name(net: str) -> str:
    """``alex`` -> ``st_lpips``, ``vgg`` -> ``st_lpips_vgg``."""
    return "st_lpips" if net == "alex" else f"st_lpips_{net}"


@lru_cache(maxsize=4)
def _model(net: str, device: str) -> Any:
    from recon.metrics.st_lpips import STLPIPS

    return STLPIPS(net, device=device)


class STLPIPSScorer:
    """ST-LPIPS distances of batches, per network, with the evaluation's border crop.

    Args:
        nets: networks to score with (see :func:`st_lpips_nets`).
        crop: pixels removed from each border first (the ``sr`` convention's ``scale``).
        device: where the networks run.

    Attributes:
        conventions: ``{metric name: description or "not computed: <why>"}``.
    """

    def __init__(self, nets: list[str], crop: int, device: torch.device) -> None:
        from recon.metrics.st_lpips import st_lpips_status

        self.crop = crop
        self.models: dict[str, Any] = {}
        self.conventions: dict[str, str] = {}
        where = f"{crop} px cropped from each border" if crop else "whole image"
        for net in nets:
            ok, reason = st_lpips_status(net)
            if not ok:
                self.conventions[metric_name(net)] = f"not computed: {reason}"
                continue
            self.models[metric_name(net)] = _model(net, str(device))
            self.conventions[metric_name(net)] = ST_LPIPS_CONVENTION.format(net=net, crop=where)

    def __call__(self, target: Tensor, pred: Tensor) -> dict[str, list[float]]:
        """``{metric: per-image distances}`` of ``(B, C, H, W)`` batches in [0, 1]."""
        if not self.models:
            return {}
        c = self.crop
        if c and min(target.shape[-2:]) > 2 * c:
            target, pred = target[..., c:-c, c:-c], pred[..., c:-c, c:-c]
        with torch.no_grad():
            return {name: model(target.float(), pred.float()).cpu().tolist()
                    for name, model in self.models.items()}


def patch_metrics(cfg: Any, volumes: dict[str, dict[int, list[tuple[np.ndarray, np.ndarray]]]],
                  device: torch.device) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Patch KID/FID of every method from the stored ``(target, prediction)`` pairs.

    Args:
        volumes: per method, ``{volume id: [(target (C, H, W), prediction (C, H, W)), ...]}``
            in evaluation order (every method holds the same targets).

    Returns:
        ``({method: {"kid_patch", "kid_patch_std", "fid_patch"}}, {"kid_patch": convention})``;
        no scores when ``eval.patch_kid`` is off or the Inception weights are missing.
    """
    e = cfg.eval
    if not e.patch_kid:
        return {}, {}
    from recon.metrics.inception import inception_status
    from recon.metrics.patch_kid import describe_patches, patch_boxes, patch_distribution

    ok, reason = inception_status()
    if not ok:
        return {}, {"kid_patch": f"not computed: {reason}"}
    first = next(iter(volumes.values()))
    targets = [t for pairs in first.values() for t, _ in pairs]
    predictions: dict[str, Sequence[np.ndarray]] = {
        name: [p for pairs in per.values() for _, p in pairs] for name, per in volumes.items()}
    boxes = patch_boxes(targets, e.patch_size, e.patch_count, e.patch_seed)
    if len(boxes) < 2:
        return {}, {"kid_patch": f"not computed: the evaluation images hold fewer than 2 distinct "
                                 f"{e.patch_size}x{e.patch_size} crops"}
    extractor = _extractor(str(device))
    scores = patch_distribution(targets, predictions, extractor, size=e.patch_size, boxes=boxes)
    return scores, {"kid_patch": describe_patches(e.patch_size, e.patch_count, e.patch_seed,
                                                  extractor.weights_name, used=len(boxes))}


@lru_cache(maxsize=2)
def _extractor(device: str) -> Any:
    from recon.metrics.inception import InceptionFeatureExtractor

    return InceptionFeatureExtractor(device=device)
