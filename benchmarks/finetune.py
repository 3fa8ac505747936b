"""Fine-tuning rows of the quality suite: a run started from another run's weights.

A variant with a ``parent`` (:class:`benchmarks.spec.BenchmarkSpec`) is measured in three
child processes, each with the variant's seed:

1. ``parent``: ``recon run`` with the parent's preset and overrides (e.g. the built-in T1
   brain), the run a user would fine-tune from;
2. ``from_scratch``: the variant's own preset and overrides (e.g. the T2 brain, a short
   budget), networks initialised as any new run's;
3. ``fine_tuned``: the same command with ``trainer.init_from=<1>/checkpoints/last.pt`` and
   ``trainer.init_parts`` (what ``recon run --init-from CKPT --init-parts ...`` sets), and
   ``eval.compare_checkpoint=<2>`` labelled ``from scratch``, so its ``eval.json`` scores the
   fine-tuned model, the task's baselines and the from-scratch model on the same test images.

Runs 2 and 3 differ only in where the networks start: same data, steps, seed and draws. The
parent checkpoint is also scored as it is on the variant's test data (``recon eval`` with the
variant's ``data.*`` overrides), the row ``parent, not fine-tuned``: what fine-tuning adds.
The record names the parent checkpoint with its sha256 (as the fine-tuned run's config.yaml
records it) and gives each run's wall time and peak memory; the row's are the fine-tuned run's
alone (the cost of fine-tuning once a parent exists), the parent's are in its run record.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable

from benchmarks.proc import recon_command, run_child
from benchmarks.runs import comparison_run, failed, scores, train_run
from benchmarks.spec import BenchmarkSpec, TaskEntry

FINE_TUNED = "recon (fine-tuned)"
FROM_SCRATCH = "from scratch"
PARENT_AS_IS = "parent, not fine-tuned"


def benchmark_finetune(entry: TaskEntry, spec: BenchmarkSpec, out: Path, record: dict[str, Any], *,
                       smoke: bool, device: str, compare: bool = True,
                       log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train the parent, the variant from scratch and fine-tuned from the parent; fill ``record``.

    ``compare=False`` (``--no-compare``) leaves out the from-scratch run.
    """
    from recon.train.init_from import sha256_of

    assert spec.parent is not None
    preset = spec.smoke_preset if smoke else spec.preset
    parent_preset = spec.smoke_preset if smoke else spec.parent["preset"]
    parts = list(spec.parent["init_parts"])
    scratch = out / "scratch" / spec.label
    timeout_s = spec.timeout_min * 60
    parent_spec = dataclasses.replace(spec, overrides=list(spec.parent["overrides"]))

    log(f"[quality] {spec.label}: training the parent run ({parent_preset} preset)")
    run, result = train_run(entry.name, parent_spec, parent_preset, scratch / "parent", device, [], timeout_s)
    record["runs"].append(run)
    checkpoint = scratch / "parent" / "checkpoints" / "last.pt"
    if result.returncode != 0 or not checkpoint.exists():
        return failed(record, "the parent run", result)
    record["parent"] = {"checkpoint": str(checkpoint.resolve()), "sha256": sha256_of(checkpoint),
                        "preset": parent_preset, "overrides": list(spec.parent["overrides"]), "init_parts": parts}
    as_is = _score_parent_as_is(entry.name, spec, checkpoint, scratch, device, timeout_s, log)
    extra = [f"trainer.init_from={checkpoint.resolve()}", f"trainer.init_parts=[{','.join(parts)}]"]
    if compare:
        log(f"[quality] {spec.label}: training from scratch ({preset} preset)")
        extra += comparison_run(entry.name, spec, preset, scratch / "from_scratch", device, [], timeout_s, record,
                                log, label=FROM_SCRATCH)
    log(f"[quality] {spec.label}: fine-tuning from the parent ({preset} preset, init {','.join(parts)})")
    run, result = train_run(entry.name, spec, preset, scratch / "fine_tuned", device, extra, timeout_s)
    record["runs"].append(run)
    eval_path = scratch / "fine_tuned" / "eval.json"
    if result.returncode != 0 or not eval_path.exists():
        return failed(record, "the fine-tuned run", result)
    record.update(scores(json.loads(eval_path.read_text()), FINE_TUNED), wall_s=round(run["wall_s"], 2),
                  peak_rss_mb=run["peak_rss_mb"])
    if as_is is not None:
        record["methods"].append(PARENT_AS_IS)
        record["metrics"][PARENT_AS_IS] = as_is["metrics"]
        record["parent"]["eval_command"] = as_is["command"]
    return record


def _score_parent_as_is(task: str, spec: BenchmarkSpec, checkpoint: Path, scratch: Path, device: str,
                        timeout_s: float, log: Callable[[str], None]) -> dict[str, Any] | None:
    """``recon eval`` of the parent checkpoint on the variant's test data (its ``data.*``
    overrides, e.g. the other contrast): what the parent gives without fine-tuning.
    ``{"metrics": ..., "command": ...}``, or None (logged) when the evaluation fails."""
    out = scratch / "parent_as_is.json"
    args = ["eval", "--checkpoint", str(checkpoint), "--json", str(out), "--device", device]
    for item in spec.overrides:
        if item.split("=", 1)[0].strip().startswith("data."):
            args += ["--set", item]
    log(f"[quality] {spec.label}: scoring the parent as is on the variant's test data")
    result = run_child(recon_command(*args), scratch / "parent_as_is.log", timeout_s)
    if result.returncode != 0 or not out.exists():
        log(f"[quality] {spec.label}: scoring the parent as is failed:\n{result.tail()}")
        return None
    return {"metrics": json.loads(out.read_text()).get("metrics", {}), "command": "recon " + " ".join(args)}
