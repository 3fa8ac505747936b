"""Checks a run makes once its networks exist and before it trains (nothing is written yet)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from recon.train.runtime import capture_rng, restore_rng

__all__ = ["check_metric_inputs", "check_registered_metrics_reported"]


def check_metric_inputs(task: Any, parts: Any, cfg: Any) -> None:
    """``eval.metrics`` naming a metric that reads batch inputs (e.g. an inpainting ``mask``): the
    task's evaluation items must carry them, checked on the first validation item now rather
    than at the first evaluation. Raises ``UsageError`` (exit 2); the global RNG is untouched."""
    if not cfg.eval.metrics or parts.evaluate is not None:
        return
    from recon.evaluation import metric_inputs
    from recon.scores import registered_metrics

    metrics = registered_metrics(cfg, task.metric_convention, 0, cfg.eval.metrics)
    if not any(metric.inputs for metric in metrics.values()):
        return
    rng = capture_rng()
    try:
        dataset = task.build_dataset(cfg, "val")
        metric_inputs(metrics, dataset[0] if len(dataset) else {}, task.name)
    finally:
        restore_rng(rng)


def check_registered_metrics_reported(parts: Any, cfg: Any, generator: nn.Module, device: torch.device) -> None:
    """``eval.metrics`` with a task that scores itself: evaluate one validation image now, so a
    task whose evaluation does not report the registered metrics (it does not go through the
    paired evaluation) is refused before training rather than after it.

    The global RNG states and the generator's mode are restored, so the run is the same as
    without the check. Raises ``UsageError`` (exit 2) naming the missing metrics.
    """
    if not cfg.eval.metrics or parts.evaluate is None:
        return  # the paired evaluation itself: every registered metric is reported
    from recon.evaluation import check_metrics_reported

    probe = cfg.copy()
    probe.eval.max_images, probe.eval.compare_checkpoint = 1, ""
    probe.eval.lpips = probe.eval.st_lpips = probe.eval.patch_kid = False
    rng, was_training = capture_rng(), generator.training
    try:
        with torch.no_grad():
            result = parts.evaluate(probe, generator, "val", device, {})
    finally:
        generator.train(was_training)
        restore_rng(rng)
    check_metrics_reported(probe, result)
