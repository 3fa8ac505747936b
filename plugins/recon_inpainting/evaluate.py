"""Evaluation of ``inpainting``: the core paired evaluation plus the hole-only L1 error.

PSNR/SSIM/NMSE (and LPIPS) come from :func:`recon.evaluation.evaluate_paired` in the ``sr``
convention with no border crop; :func:`evaluate` then adds ``l1_hole`` (mean absolute error
inside the hole, [0, 1] scale, mean over images) to the model and every baseline. Whole-image
metrics are diluted by the known pixels (copied exactly by every method), ``l1_hole`` is not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from recon.api import evaluate_paired, iterate_batches, paired_methods
from recon_inpainting.baselines import l1_hole

L1_HOLE = ("mean |pred - gt| over the hole pixels and channels, values in [0,1], "
           "prediction clamped to [0,1], mean over images")


@torch.no_grad()
def hole_errors(task: Any, parts: Any, cfg: Any, generator: nn.Module, split: str, device: torch.device,
                extra_models: dict[str, nn.Module] | None = None) -> dict[str, float]:
    """``{method: mean l1_hole}`` over the evaluation images of ``split``."""
    methods = paired_methods(parts, generator, extra_models)
    values: dict[str, list[float]] = {name: [] for name in methods}
    dataset = task.build_dataset(cfg, split)
    for batch in iterate_batches(dataset, cfg.eval.batch_size, cfg.eval.max_images):
        batch = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in batch.items()}
        target = batch["target"].clamp(0, 1)
        for name, method in methods.items():
            values[name] += l1_hole(method(batch), target, batch["mask"]).cpu().tolist()
    return {name: float(np.mean(v)) if v else float("nan") for name, v in values.items()}


def evaluate(task: Any, parts: Any, cfg: Any, generator: nn.Module, split: str, device: torch.device,
             extra_models: dict[str, nn.Module] | None = None) -> dict[str, Any]:
    """The eval.json structure with ``l1_hole`` added to every method's metrics."""
    result = evaluate_paired(task, parts, cfg, generator, split, device, extra_models)
    holes = hole_errors(task, parts, cfg, generator, split, device, extra_models)
    result["metrics"]["l1_hole"] = holes["model"]
    for entry in [*result.get("baselines", []), result.get("baseline") or {}]:
        if entry.get("name") in holes:
            entry["metrics"]["l1_hole"] = holes[entry["name"]]
    result["conventions"]["l1_hole"] = L1_HOLE
    return result
