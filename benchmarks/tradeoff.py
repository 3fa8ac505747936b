"""The tradeoff suite: the perception-distortion plane of each paired task.

For every task variant whose :class:`~benchmarks.spec.BenchmarkSpec` declares a ``sweep``,
the same generator (the ``default`` preset, ``smoke`` under ``--smoke``) is trained at each
adversarial weight of the sweep, with the same seed and the same number of steps::

    recon run --task T --preset default --seed S --set loss.adversarial=W [--set trainer.max_steps=N ...]

(a reduced ``N`` also scales ``trainer.d_warmup_steps`` by ``N / max_steps``, so the
discriminator plays the same fraction of the run) and each run's ``eval.json`` gives one
point: distortion (PSNR, SSIM, NMSE) against realism (ST-LPIPS, patch KID/FID). The default
preset's own weight is always one of the points (added when the sweep lacks it) so the figure
can mark it.

When the quality suite ran the same variant in the same invocation with the same preset and
steps, its non-adversarial twin (weight 0) and its adversarial model (the default weight) are
reused instead of trained again (``"reused": true``). Run directories go to
``<out>/scratch/<label>/tradeoff_w<weight>/``; a failed point is recorded and the sweep goes on.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from benchmarks.runs import train_run
from benchmarks.spec import BenchmarkSpec, TaskEntry


def same_weight(a: float, b: float) -> bool:
    """Adversarial weights compare as equal up to float noise."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


def weight_value(weight: float) -> str:
    """``--set`` text of a weight in positional notation (YAML reads ``1e-05`` as a string)."""
    return f"{Decimal(repr(float(weight))):f}"


def sweep_weights(sweep: list[float], default_weight: float) -> list[float]:
    """The declared weights plus the default preset's own weight, ascending."""
    weights = [float(w) for w in sweep]
    if not any(same_weight(w, default_weight) for w in weights):
        weights.append(float(default_weight))
    return sorted(weights)


def reduced_overrides(n_steps: int, preset_steps: int, warmup: int) -> list[str]:
    """``--set`` items that train ``n_steps`` instead of the preset's ``preset_steps``, the
    discriminator's warm-up scaled to the same fraction of the run (none when nothing changes)."""
    if n_steps == preset_steps:
        return []
    return [f"trainer.max_steps={n_steps}", f"trainer.d_warmup_steps={round(warmup * n_steps / preset_steps)}"]


def _resolved(task_name: str, spec: BenchmarkSpec, preset: str) -> tuple[float, int, int, bool, bool]:
    """(the preset's adversarial weight, its max_steps, its d_warmup_steps, it has a discriminator,
    the task is unconditional)."""
    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task(task_name)
    cfg = build_config(task, preset, overrides=list(spec.overrides), device="cpu")
    has_d = task.setup(cfg, None).discriminator is not None
    return (float(cfg.loss.adversarial), int(cfg.trainer.max_steps), int(cfg.trainer.d_warmup_steps), has_d,
            bool(task.unconditional))


def _numeric(metrics: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of an eval.json metrics mapping."""
    return {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _evaluation(run_dir: Path) -> dict[str, Any] | None:
    """The run's eval.json, or ``None`` when it has none (or an unreadable one)."""
    try:
        return json.loads((run_dir / "eval.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _point(weight: float, steps: int, run: dict[str, Any], reused: bool) -> dict[str, Any]:
    """One point of the sweep from a run record (quality's or this suite's)."""
    point: dict[str, Any] = {
        "weight": weight, "steps": steps, "status": "ok", "reason": None, "reused": reused, "metrics": {},
        "wall_s": run["wall_s"], "peak_rss_mb": run["peak_rss_mb"], "command": run["command"],
        "returncode": run["returncode"], "timed_out": run["timed_out"], "run_dir": run["run_dir"],
    }
    evaluation = _evaluation(Path(run["run_dir"]))
    if run["returncode"] != 0 or evaluation is None:
        why = "timed out" if run["timed_out"] else f"exit {run['returncode']}"
        point.update(status="failed", reason=f"recon run {why}" + ("" if run["returncode"] else ", no eval.json"))
        return point
    point["metrics"] = _numeric(evaluation.get("metrics", {}))
    return point


def reusable_runs(quality: list[dict[str, Any]] | None, label: str, preset: str,
                  default_weight: float) -> dict[float, dict[str, Any]]:
    """Successful runs of the quality suite for this variant and preset, by adversarial weight.

    The caller checks that the step counts agree (the quality suite trains the preset's own).
    """
    found: dict[float, dict[str, Any]] = {}
    for rec in quality or []:
        if rec.get("label") != label or rec.get("preset") != preset:
            continue
        for run in rec.get("runs", []):
            if run.get("returncode") != 0 or _evaluation(Path(run["run_dir"])) is None:
                continue
            weight = 0.0 if run["name"] == "non_adversarial" else default_weight
            found.setdefault(weight, run)  # the twin first: it is the weight-0 point
    return found


def _baseline(points: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The classical baseline ({name, metrics}) and split/n_images, from the evaluated points."""
    evaluations = [e for e in (_evaluation(Path(p["run_dir"])) for p in points if p["status"] == "ok") if e]
    if not evaluations:
        return None, {}
    where = {"split": evaluations[0].get("split", "test"), "n_images": evaluations[0].get("n_images")}
    base = next((e["baseline"] for e in evaluations if e.get("baseline")), None)
    if base is not None:
        base = {"name": str(base.get("name")), "metrics": _numeric(base.get("metrics", {}))}
    return base, where


def _new_record(entry: TaskEntry, spec: BenchmarkSpec, preset: str) -> dict[str, Any]:
    return {"label": spec.label, "task": entry.name, "plugin": entry.plugin, "preset": preset, "seed": spec.seed,
            "overrides": list(spec.overrides), "status": "ok", "reason": None, "points": [], "figures": []}


def sweep_variant(entry: TaskEntry, spec: BenchmarkSpec, out: Path, *, smoke: bool, device: str,
                  steps: int | None = None, quality: list[dict[str, Any]] | None = None,
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train one variant at every weight of its sweep; returns its record for ``results.json``."""
    preset = spec.smoke_preset if smoke else spec.preset
    record = _new_record(entry, spec, preset)
    if not spec.sweep:
        record.update(status="skipped", reason="no sweep declared")
        return record
    try:
        default_weight, preset_steps, warmup, has_d, unconditional = _resolved(entry.name, spec, preset)
    except Exception as exc:  # noqa: BLE001 - one broken task must not stop the suite
        record.update(status="failed", reason=f"config: {type(exc).__name__}: {exc}")
        return record
    if unconditional or not has_d:
        why = "unconditional: no non-adversarial twin" if unconditional else "the task trains no discriminator"
        record.update(status="skipped", reason=why)
        return record
    n_steps = preset_steps if steps is None else steps
    record.update(steps=n_steps, preset_steps=preset_steps, reduced=n_steps != preset_steps,
                  default_weight=default_weight, weights=sweep_weights(spec.sweep, default_weight))
    reuse = reusable_runs(quality, spec.label, preset, default_weight) if n_steps == preset_steps else {}
    extra = reduced_overrides(n_steps, preset_steps, warmup)
    scratch = out / "scratch" / spec.label
    for weight in record["weights"]:
        run = next((r for w, r in reuse.items() if same_weight(w, weight)), None)
        if run is not None:
            log(f"[tradeoff] {spec.label}: λ={weight:g} reused from the quality suite ({run['name']})")
            point = _point(weight, n_steps, run, reused=True)
        else:
            log(f"[tradeoff] {spec.label}: training at λ={weight:g} ({preset} preset, {n_steps} steps)")
            run, _ = train_run(entry.name, spec, preset, scratch / f"tradeoff_w{weight:g}", device,
                               [f"loss.adversarial={weight_value(weight)}", *extra], spec.timeout_min * 60)
            point = _point(weight, n_steps, run, reused=False)
            if point["status"] != "ok":
                log(f"[tradeoff] {spec.label}: λ={weight:g} failed ({point['reason']}); going on")
        point["default"] = same_weight(weight, default_weight)
        point["declared"] = any(same_weight(weight, w) for w in spec.sweep)
        record["points"].append(point)
    baseline, where = _baseline(record["points"])
    record.update(baseline=baseline, **where)
    record["wall_s"] = round(sum(p["wall_s"] for p in record["points"] if not p["reused"]), 2)
    if not any(p["status"] == "ok" for p in record["points"]):
        record.update(status="failed", reason=f"every point failed (first: {record['points'][0]['reason']})")
    return record


def run_tradeoff(entries: list[TaskEntry], out: Path, *, smoke: bool, device: str, steps: int | None = None,
                 quality: list[dict[str, Any]] | None = None,
                 log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Every variant that declares a sweep, one after the other (the others are only logged)."""
    records = []
    for entry in entries:
        for spec in entry.specs:
            if not spec.sweep:
                log(f"[tradeoff] {spec.label}: no sweep declared, skipped")
                continue
            records.append(sweep_variant(entry, spec, out, smoke=smoke, device=device, steps=steps,
                                         quality=quality, log=log))
    return records


def failures(records: list[dict[str, Any]]) -> list[str]:
    """Failed variants and failed points of the variants that otherwise ran."""
    bad = []
    for rec in records:
        if rec.get("status") == "failed":
            bad.append(f"tradeoff:{rec['label']}")
            continue
        bad += [f"tradeoff:{rec['label']}@λ={p['weight']:g}" for p in rec.get("points", [])
                if p.get("status") == "failed"]
    return bad
