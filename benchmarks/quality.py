"""The quality suite: train every registered task, score it on the test split beside its baselines.

For each task (each variant of :mod:`benchmarks.spec`), in a child process so wall time and
peak memory are that run's own:

1. when the task has a discriminator, ``recon run ... --set loss.adversarial=0``: the same
   generator trained without the adversarial term;
2. ``recon run --task T --preset default --seed S`` with
   ``--set eval.compare_checkpoint=<1>/checkpoints/last.pt``, so the adversarial run's
   ``eval.json`` scores the model, the task's classical baselines and the non-adversarial
   model on the same test images (the perception-distortion trade-off in one table).

A variant with a ``parent`` is a fine-tuning row instead (:mod:`benchmarks.finetune`): the
parent run, the variant from scratch, and the variant initialised from the parent.

Run directories go to ``<out>/scratch/`` (git-ignored); the record keeps what the tables need.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from benchmarks.runs import comparison_run, failed, scores, train_run
from benchmarks.spec import BenchmarkSpec, TaskEntry

MODEL = "recon"
NON_ADVERSARIAL = "non-adversarial"


def _adversary(task_name: str, spec: BenchmarkSpec, preset: str) -> tuple[bool, bool, bool]:
    """(the preset trains against a discriminator, a non-adversarial twin makes sense,
    the task is unconditional).

    An unconditional generator trained without its discriminator learns nothing, so
    unconditional tasks get no non-adversarial comparison.
    """
    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task(task_name)
    cfg = build_config(task, preset, overrides=list(spec.overrides), device="cpu")
    adversarial = cfg.loss.adversarial > 0 and task.setup(cfg, None).discriminator is not None
    return adversarial, adversarial and not task.unconditional, bool(task.unconditional)


def benchmark_variant(entry: TaskEntry, spec: BenchmarkSpec, out: Path, *, smoke: bool, device: str,
                      compare: bool = True, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train and evaluate one variant; returns its record for ``results.json``."""
    preset = spec.smoke_preset if smoke else spec.preset
    record: dict[str, Any] = {
        "label": spec.label, "task": entry.name, "plugin": entry.plugin, "preset": preset, "seed": spec.seed,
        "overrides": list(spec.overrides), "status": "ok", "reason": None, "adversarial": False, "runs": [],
    }
    try:
        adversarial, comparable, record["unconditional"] = _adversary(entry.name, spec, preset)
    except Exception as exc:  # noqa: BLE001 - one broken task must not stop the suite
        record.update(status="failed", reason=f"config: {type(exc).__name__}: {exc}")
        return record
    record["adversarial"] = adversarial
    if spec.parent is not None:
        from benchmarks.finetune import benchmark_finetune

        return benchmark_finetune(entry, spec, out, record, smoke=smoke, device=device, compare=compare, log=log)
    compare = compare and comparable and spec.non_adversarial is not False
    scratch = out / "scratch" / spec.label
    timeout_s = spec.timeout_min * 60
    extra: list[str] = []
    if compare:
        log(f"[quality] {spec.label}: training without the adversarial term ({preset} preset)")
        extra += comparison_run(entry.name, spec, preset, scratch / "non_adversarial", device,
                                ["loss.adversarial=0"], timeout_s, record, log)
    log(f"[quality] {spec.label}: training the {'adversarial ' if adversarial else ''}model ({preset} preset)")
    run, result = train_run(entry.name, spec, preset, scratch / "adversarial", device, extra, timeout_s)
    record["runs"].append(run)
    eval_path = scratch / "adversarial" / "eval.json"
    if result.returncode != 0 or not eval_path.exists():
        return failed(record, "recon run", result)
    model = f"{MODEL} (adversarial)" if adversarial else MODEL
    record.update(scores(json.loads(eval_path.read_text()), model),
                  wall_s=round(sum(r["wall_s"] for r in record["runs"]), 2),
                  peak_rss_mb=max(r["peak_rss_mb"] for r in record["runs"]))
    return record


def run_quality(entries: list[TaskEntry], out: Path, *, smoke: bool, device: str, compare: bool = True,
                log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Every variant of every entry, one after the other (the machine has 2 cores).

    ``compare=False`` skips every non-adversarial comparison run (``--no-compare``)."""
    records = []
    for entry in entries:
        if not entry.specs:
            records.append({"label": entry.name, "task": entry.name, "plugin": entry.plugin, "status": "skipped",
                            "reason": "the task opted out (benchmark=False)", "runs": []})
            continue
        for spec in entry.specs:
            records.append(benchmark_variant(entry, spec, out, smoke=smoke, device=device, compare=compare,
                                             log=log))
    return records
