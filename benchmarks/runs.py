"""One ``recon run`` of the benchmark suites in a child process, and what its run directory says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

from benchmarks.proc import ChildResult, recon_command, run_child
from benchmarks.spec import BenchmarkSpec


def last_step(run_dir: Path) -> int | None:
    """The last training step logged in ``metrics.jsonl`` (``None`` when absent)."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return None
    step = None
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record.get("step"), int) and not any(k.startswith("test/") for k in record):
            step = record["step"]
    return step


def train_run(task: str, spec: BenchmarkSpec, preset: str, run_dir: Path, device: str,
              extra: list[str], timeout_s: float) -> tuple[dict[str, Any], ChildResult]:
    """``recon run`` of one preset in a child process (``run_dir`` is emptied first); its run record."""
    if run_dir.exists():
        shutil.rmtree(run_dir)  # scratch space of this suite: a stale run would be refused
    sets = ["trainer.progress=false", *spec.overrides, *extra]
    args = ["run", "--task", task, "--preset", preset, "--out", str(run_dir), "--seed", str(spec.seed),
            "--device", device]
    for item in sets:
        args += ["--set", item]
    result = run_child(recon_command(*args), run_dir.parent / f"{run_dir.name}.log", timeout_s)
    record = {
        "name": run_dir.name, "run_dir": str(run_dir), "command": "recon " + " ".join(args),
        "returncode": result.returncode, "timed_out": result.timed_out, "wall_s": result.wall_s,
        "peak_rss_mb": result.peak_rss_mb, "steps": last_step(run_dir),
    }
    return record, result


def scores(evaluation: dict[str, Any], model: str) -> dict[str, Any]:
    """What a quality record keeps of a run's ``eval.json``: the methods in table order (the
    model, named ``model``, first; then each baseline) with their metrics, the split, the
    number of images, the task's reference baseline and the metric conventions."""
    methods, metrics = [model], {model: evaluation.get("metrics", {})}
    for item in evaluation.get("baselines", []):
        name = str(item.get("name"))
        methods.append(name)
        metrics[name] = item.get("metrics", {})
    return {"split": evaluation.get("split", "test"), "n_images": evaluation.get("n_images"),
            "methods": methods, "metrics": metrics, "baseline": (evaluation.get("baseline") or {}).get("name"),
            "conventions": evaluation.get("conventions", {})}


def comparison_run(task: str, spec: BenchmarkSpec, preset: str, run_dir: Path, device: str, sets: list[str],
                   timeout_s: float, record: dict[str, Any], log: Callable[[str], None],
                   label: str = "") -> list[str]:
    """Train the run a model is compared with (appended to ``record["runs"]``); the ``--set``
    strings that make the model's ``eval.json`` score it (``eval.compare_checkpoint``, and
    ``eval.compare_label`` when ``label``), or ``[]`` (logged) when it failed."""
    run, result = train_run(task, spec, preset, run_dir, device, sets, timeout_s)
    record["runs"].append(run)
    checkpoint = run_dir / "checkpoints" / "last.pt"
    if result.returncode != 0 or not checkpoint.exists():
        log(f"[quality] {spec.label}: the {run_dir.name.replace('_', '-')} run failed:\n{result.tail()}")
        return []
    return [f"eval.compare_checkpoint={checkpoint}", *([f"eval.compare_label={label}"] if label else [])]


def failed(record: dict[str, Any], what: str, result: ChildResult) -> dict[str, Any]:
    """``record`` marked failed: ``what`` timed out or exited non-zero, with its last log line."""
    why = "timed out" if result.timed_out else f"exit {result.returncode}"
    record.update(status="failed", reason=f"{what} {why}: {result.tail(1)}")
    return record
