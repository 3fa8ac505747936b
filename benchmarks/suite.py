"""Run the chosen suites, write ``results.json`` / ``results.md`` / figures, validate the output.

Layout of an output directory::

    results.json        everything measured (validated against benchmarks/schema.json)
    results.md          the tables (also printed)
    figures/*.png       metric bars, sample grids, loss curves, trade-off planes, speed, scaling
    scratch/            run directories and logs of the child processes (git-ignored)
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Callable

from recon.errors import UsageError
from recon.registry import closest_hint

from benchmarks.machine import machine_info

SCHEMA = Path(__file__).with_name("schema.json")
RESULTS_ROOT = Path(__file__).with_name("results")
#: the suites in the order they run (``all`` is every one of them)
SUITES = ("quality", "tradeoff", "speed")


def parse_suites(text: str) -> list[str]:
    """``--suite`` text (``quality``, ``tradeoff,quality``, ``all`` ...) -> the suites to run, in the
    canonical order quality, tradeoff, speed whatever order was given; UsageError for an unknown name."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError("--suite is empty (valid: quality, tradeoff, speed, all, or a comma-separated list)")
    for name in names:
        if name != "all" and name not in SUITES:
            raise UsageError(f"unknown suite {name!r} in --suite (valid: quality, tradeoff, speed, all, or a "
                             f"comma-separated list){closest_hint(name, [*SUITES, 'all'])}")
    return list(SUITES) if "all" in names else [s for s in SUITES if s in names]


def suite_name(suites: list[str] | tuple[str, ...] | set[str]) -> str:
    """What results.json's ``suite`` says: ``all`` for every suite, else e.g. ``quality,tradeoff``."""
    return "all" if set(SUITES) <= set(suites) else ",".join(s for s in SUITES if s in suites)


def default_out(root: Path = RESULTS_ROOT) -> Path:
    """``benchmarks/results/<date>/``; a second run on the same day gets ``<date>_2`` ..."""
    day = dt.date.today().isoformat()
    out, n = root / day, 1
    while (out / "results.json").exists():
        n += 1
        out = root / f"{day}_{n}"
    return out


def resolved_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def validate(results: dict[str, Any]) -> list[str]:
    """Schema errors of ``results`` (empty when valid); needs ``jsonschema`` (the dev extra)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(validator.iter_errors(results), key=lambda e: list(map(str, e.path)))]


def _quality_figures(records: list[dict[str, Any]], fig_dir: Path, machine: dict[str, Any]) -> list[str]:
    from benchmarks import figures

    names = []
    for rec in records:
        rec["figures"] = []
        if rec.get("status") != "ok":
            continue
        for kind, fn in (("metrics", figures.metric_bars), ("samples", figures.sample_grid),
                         ("losses", figures.loss_curves)):
            name = fn(rec, fig_dir / f"{rec['label']}_{kind}.png", machine)
            if name:
                rec["figures"].append(name)
        names += rec["figures"]
    return names


def _tradeoff_figures(records: list[dict[str, Any]], fig_dir: Path, machine: dict[str, Any]) -> list[str]:
    """``<label>_tradeoff.png`` of every variant whose sweep has points."""
    from benchmarks.figures import tradeoff_figure

    names = []
    for rec in records:
        name = tradeoff_figure(rec, fig_dir / f"{rec['label']}_tradeoff.png", machine)
        rec["figures"] = [name] if name else []
        names += rec["figures"]
    return names


def run_suite(suite: str, tasks: list[str] | None, out: Path, *, smoke: bool, device: str,
              argv: list[str], compare: bool = True, steps: int | None = None,
              tradeoff_steps: int | None = None, append: bool = False, speed_rounds: int | None = None,
              log: Callable[[str], None] = print) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the suites named in ``suite`` (``quality``, ``tradeoff,speed``, ``all`` ...: see
    :func:`parse_suites`) in the order quality, tradeoff, speed; write the results.

    Returns (what was written, this invocation's own results): they differ with ``append``, which
    merges this run into ``out``'s earlier results.json (:mod:`benchmarks.append`) instead of
    overwriting it. ``tradeoff_steps`` trains the sweep at that step count instead of the preset's."""
    from benchmarks.append import load_previous, merge_results, remove_stale_figures
    from benchmarks.spec import discover

    suites = parse_suites(suite)  # bad names, unknown tasks, a mismatched --append: UsageError before any work
    entries = discover(tasks)
    previous = load_previous(out, smoke) if append else None
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    device_name = resolved_device(device)
    results: dict[str, Any] = {
        "schema_version": 1,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "command": "python -m benchmarks " + " ".join(shlex.quote(a) for a in argv),
        "suite": suite_name(suites), "smoke": smoke, "tasks": [e.name for e in entries],
        "machine": machine_info(device_name), "figures": [],
    }
    load, cores = results["machine"]["load_avg_1min"], results["machine"]["cores"]
    if load is not None and load > cores:
        log(f"[benchmarks] warning: load average {load:g} is above the {cores} cores: "
            "timings will be inflated (they are recorded with the load)")
    _measure(results, suites, entries, out, device=device, device_name=device_name, tasks_given=bool(tasks),
             compare=compare, steps=steps, tradeoff_steps=tradeoff_steps, speed_rounds=speed_rounds, log=log)
    results["machine"]["load_avg_1min_end"] = machine_info(device_name)["load_avg_1min"]
    results["wall_s"] = round(time.perf_counter() - start, 2)
    results["commands"] = [{"command": results["command"], "created": results["created"],
                            "wall_s": results["wall_s"], "machine": dict(results["machine"]),
                            "suite": results["suite"]}]
    written = results
    if previous is not None:
        written, stale = merge_results(previous, results, suites, log=log)
        remove_stale_figures(out / "figures", stale)
        log(f"[benchmarks] appended to {out / 'results.json'} ({len(written['commands'])} commands)")
    write(written, out)
    return written, results


def _measure(results: dict[str, Any], suites: list[str], entries: list[Any], out: Path, *, device: str,
             device_name: str, tasks_given: bool, compare: bool, steps: int | None, tradeoff_steps: int | None,
             log: Callable[[str], None], speed_rounds: int | None = None) -> None:
    """Run ``suites`` (canonical order) into ``results``: their sections and figures."""
    from benchmarks import figures
    from benchmarks.quality import run_quality
    from benchmarks.scaling import run_scaling
    from benchmarks.spec import default_speed_tasks
    from benchmarks.speed import run_speed
    from benchmarks.tradeoff import run_tradeoff

    smoke, fig_dir = results["smoke"], out / "figures"
    if "quality" in suites:
        results["quality"] = run_quality(entries, out, smoke=smoke, device=device, compare=compare, log=log)
        results["figures"] += _quality_figures(results["quality"], fig_dir, results["machine"])
    if "tradeoff" in suites:  # reuses this invocation's quality runs (quality runs first)
        results["tradeoff"] = run_tradeoff(entries, out, smoke=smoke, device=device, steps=tradeoff_steps,
                                           quality=results.get("quality"), log=log)
        results["figures"] += _tradeoff_figures(results["tradeoff"], fig_dir, results["machine"])
    if "speed" in suites:
        speed_tasks = [e.name for e in entries] if tasks_given else default_speed_tasks(entries)
        results["speed"] = run_speed(speed_tasks, smoke=smoke, device=device_name, steps=steps, rounds=speed_rounds,
                                     log=log)
        name = figures.speed_figure(results["speed"], fig_dir / "speed.png", results["machine"])
        results["figures"] += [name] if name else []
        if speed_tasks:
            results["scaling"] = run_scaling(speed_tasks[0], out, smoke=smoke, device=device_name, log=log,
                                             steps=steps)
            name = figures.scaling_figure(results["scaling"], fig_dir / "scaling.png", results["machine"])
            results["figures"] += [name] if name else []


def write(results: dict[str, Any], out: Path) -> None:
    """``results.json`` and ``results.md``; schema problems are reported on stderr."""
    from benchmarks.report import results_markdown

    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(results_markdown(results))
    try:
        errors = validate(results)
    except ImportError:
        errors = []
        print("benchmarks: jsonschema is not installed; results.json was not validated", file=sys.stderr)
    for error in errors:
        print(f"benchmarks: results.json does not match schema.json: {error}", file=sys.stderr)


def failures(results: dict[str, Any]) -> list[str]:
    """Labels of everything that failed (a task, a sweep point, a speed measurement, a scaling point)."""
    from benchmarks.tradeoff import failures as tradeoff_failures

    bad = [f"quality:{r['label']}" for r in results.get("quality", []) if r.get("status") == "failed"]
    bad += tradeoff_failures(results.get("tradeoff", []))
    bad += [f"speed:{r['task']}" for r in results.get("speed", []) if r.get("status") == "failed"]
    scaling = results.get("scaling") or {}
    if scaling.get("status") == "failed":
        bad.append(f"scaling:{scaling.get('task')}")
    bad += [f"scaling:b{p['batch_size']}xs{p['patch_size']}" for p in scaling.get("points", [])
            if p.get("status") == "failed"]
    return bad
