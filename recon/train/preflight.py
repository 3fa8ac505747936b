"""Checks a run makes once its networks exist and before it trains (nothing is written yet)."""

from __future__ import annotations

from typing import Any

from recon.train.runtime import capture_rng, restore_rng

__all__ = ["check_metric_inputs"]


def check_metric_inputs(task: Any, parts: Any, cfg: Any) -> None:
    """``eval.metrics`` naming a metric that reads batch inputs (e.g. an inpainting ``mask``): the
    task's evaluation items must carry them, checked on the first validation item now rather
    than at the first evaluation. Raises ``UsageError`` (exit 2); the global RNG is untouched."""
    if not cfg.eval.metrics or parts.sampler is not None:
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
