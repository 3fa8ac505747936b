"""Evaluation of ``mri_kspace``: the fastMRI metrics plus the high-frequency error norm (HFEN).

NMSE, PSNR, SSIM (and LPIPS when its weights exist) come from
:func:`recon.evaluation.evaluate_paired` in the ``fastmri`` convention (per volume, then the
mean over volumes). :func:`evaluate` adds ``hfen`` to the model and every baseline:

    HFEN = ||LoG(pred) - LoG(gt)||_2 / ||LoG(gt)||_2

over the whole volume, with LoG the 2D Laplacian of Gaussian of each slice, sigma 1.5 pixels on
a 15x15 support (Ravishankar & Bresler, *MR image reconstruction from highly undersampled
k-space data by dictionary learning*, IEEE TMI 30(5), 2011). It measures the error in edges
and fine texture, which NMSE/SSIM weigh little, so it separates a sharper (adversarial)
reconstruction from a smoother one. ``scipy.ndimage.gaussian_laplace`` computes the LoG
(separable Gaussian-derivative kernels, reflect boundary); lower is better.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import torch
from scipy.ndimage import gaussian_laplace
from torch import Tensor, nn

from recon.api import evaluate_paired, iterate_batches, paired_methods

HFEN_SIGMA = 1.5
HFEN_RADIUS = 7  # 15x15 support, as in Ravishankar & Bresler 2011
HFEN_CONVENTION = (f"||LoG(pred - gt)||_2 / ||LoG(gt)||_2 per volume (2D LoG per slice, sigma {HFEN_SIGMA}, "
                   f"{2 * HFEN_RADIUS + 1}x{2 * HFEN_RADIUS + 1} support, scipy gaussian_laplace, reflect); "
                   "Ravishankar & Bresler 2011; mean over volumes; lower is better")


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


class HFENScores:
    """Accumulates ``||LoG(err)||^2`` and ``||LoG(gt)||^2`` per volume, slice by slice (the LoG is 2D,
    so the volume's norms are sums over its slices): no prediction is kept in memory."""

    def __init__(self) -> None:
        self.num: dict[int, float] = defaultdict(float)
        self.den: dict[int, float] = defaultdict(float)

    def add(self, volume_ids: Tensor, target: Tensor, pred: Tensor) -> None:
        """``target``, ``pred``: ``(N, 1, H, W)``; ``volume_ids``: ``(N,)``."""
        t = target[:, 0].double().cpu().numpy()
        p = pred[:, 0].double().cpu().numpy()
        err, ref = log_filter(p - t), log_filter(t)
        for i, vid in enumerate(volume_ids.tolist()):
            self.num[int(vid)] += float(np.sum(err[i] ** 2))
            self.den[int(vid)] += float(np.sum(ref[i] ** 2))

    def compute(self) -> float:
        values = [np.sqrt(self.num[v] / self.den[v]) for v in self.num if self.den[v] > 0]
        return float(np.mean(values)) if values else float("nan")


@torch.no_grad()
def hfen_scores(task: Any, cfg: Any, generator: nn.Module, split: str, device: torch.device,
                extra_models: dict[str, nn.Module] | None = None) -> dict[str, float]:
    """``{method: mean HFEN over volumes}`` on ``split`` (the items ``evaluate_paired`` scores)."""
    methods = paired_methods(task, cfg, generator, extra_models)
    scores = {name: HFENScores() for name in methods}
    dataset = task.build_dataset(cfg, split)
    seen = 0
    for batch in iterate_batches(dataset, cfg.eval.batch_size, cfg.eval.max_images):
        batch = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in batch.items()}
        target = batch["target"].clamp(0, 1)
        ids = batch.get("volume", torch.arange(seen, seen + target.shape[0]))
        seen += target.shape[0]
        for name, method in methods.items():
            scores[name].add(ids, target, method(batch))
    return {name: s.compute() for name, s in scores.items()}


def evaluate(task: Any, cfg: Any, generator: nn.Module, split: str, device: torch.device,
             extra_models: dict[str, nn.Module] | None = None) -> dict[str, Any]:
    """The eval.json structure (fastMRI convention) with ``hfen`` added to every method."""
    result = evaluate_paired(task, cfg, generator, split, device, extra_models)
    values = hfen_scores(task, cfg, generator, split, device, extra_models)
    result["metrics"]["hfen"] = values["model"]
    for entry in [*result.get("baselines", []), result.get("baseline") or {}]:
        if entry.get("name") in values:
            entry["metrics"]["hfen"] = values[entry["name"]]
    result["conventions"]["hfen"] = HFEN_CONVENTION
    return result
