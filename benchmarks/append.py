"""``--append``: merge a run into the results.json already in its ``--out`` directory.

Without ``--append`` a run overwrites ``results.json`` / ``results.md`` of its ``--out``. With it:

- ``quality`` and ``tradeoff`` records are keyed by ``label``: a label that is run again replaces
  its old record in place, the other old records are kept, new labels are appended (in run order);
- ``speed`` and ``scaling`` are replaced only when the speed suite ran (a speed run without a
  scaling section drops the old one: it belonged to the replaced speed run);
- ``tasks`` is the union; ``suite`` the union of the suites that ran (``all`` once all three have);
- ``commands`` lists every invocation, ``{command, created, wall_s, machine, suite}``; the
  top-level ``command``, ``created`` and ``machine`` are the latest invocation's and ``wall_s`` is
  the total over ``commands``;
- ``figures``: the names of replaced records (and of a replaced speed/scaling section) that the
  new run did not draw again are dropped, and their files deleted; new names are appended.

Smoke and full results are never merged (a usage error before any work).

The ``gpu`` section (``python -m benchmarks.gpu_check``) is kept by these merges; only
``python -m benchmarks.gpu_check --out DIR --append`` replaces it (:func:`merge_gpu`), leaving
every other key as it was: the section holds its own command, date, wall time and machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from recon.errors import UsageError

from benchmarks.suite import SUITES, parse_suites, suite_name

#: sections merged record by record (by ``label``)
BY_LABEL = ("quality", "tradeoff")
#: the figures of the speed suite, one per section
SPEED_FIGURES = {"speed": "speed.png", "scaling": "scaling.png"}
#: top-level keys in the order run_suite writes them
KEY_ORDER = ("schema_version", "created", "command", "suite", "smoke", "tasks", "machine", "figures", "quality",
             "tradeoff", "speed", "scaling", "gpu", "wall_s", "commands")


def commands_of(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every invocation behind ``results``: its ``commands``, or the top-level fields of a file that
    predates ``--append`` (one command)."""
    if results.get("commands"):
        return list(results["commands"])
    entry = {k: results[k] for k in ("command", "created", "wall_s", "machine") if k in results}
    if "suite" in results:
        entry["suite"] = results["suite"]
    return [entry]


def read_results(path: Path) -> dict[str, Any]:
    """The results.json at ``path`` that ``--append`` merges into; one clear error when it is
    unreadable or not of schema version 1."""
    try:
        old = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"--append: {path} is not a readable results.json ({exc})") from None
    if not isinstance(old, dict) or old.get("schema_version") != 1:
        raise UsageError(f"--append: {path} is not a results.json of schema version 1")
    return old


def load_previous(out: Path, smoke: bool) -> dict[str, Any] | None:
    """The results.json that ``--append`` merges into (``None`` when ``out`` has none yet)."""
    path = out / "results.json"
    if not path.exists():
        return None
    old = read_results(path)
    if bool(old.get("smoke")) != smoke:
        kinds = ("smoke" if old.get("smoke") else "full", "smoke" if smoke else "full")
        raise UsageError(f"--append: {path} holds {kinds[0]} results and this is a {kinds[1]} run: "
                         "they are not merged (use another --out)")
    return old


def _suites_of(results: dict[str, Any]) -> list[str]:
    try:
        return parse_suites(str(results.get("suite") or ""))
    except UsageError:
        return [s for s in SUITES if results.get(s)]


def merge_records(old: list[dict[str, Any]], new: list[dict[str, Any]]
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(merged records, the old records that were replaced): old order, a re-run label in its old
    place, new labels appended."""
    fresh = {rec["label"]: rec for rec in new}
    merged = [fresh.get(rec["label"], rec) for rec in old]
    replaced = [rec for rec in old if rec["label"] in fresh]
    seen = {rec["label"] for rec in old}
    merged += [rec for rec in new if rec["label"] not in seen]
    return merged, replaced


def _figure_files(section: str, rec: dict[str, Any]) -> list[str]:
    """The figure files of a record: its ``figures`` and, for a quality record, the sample grids
    copied beside ``<label>_samples.png``."""
    names = list(rec.get("figures") or [])
    if section == "quality" and f"{rec['label']}_samples.png" in names:
        names += [f"{rec['label']}_samples_{run['name']}.png" for run in rec.get("runs", []) if "name" in run]
    return names


def merge_results(old: dict[str, Any], new: dict[str, Any], suites: list[str],
                  log: Callable[[str], None] = print) -> tuple[dict[str, Any], list[str]]:
    """(``new`` merged into ``old``, the figure files that no record names any more)."""
    merged = dict(old)
    dropped: list[str] = []
    for section in BY_LABEL:
        if section in suites:
            merged[section], replaced = merge_records(old.get(section) or [], new.get(section) or [])
            dropped += [name for rec in replaced for name in _figure_files(section, rec)]
    if "speed" in suites:
        for section, figure in SPEED_FIGURES.items():
            if old.get(section) is not None:
                dropped.append(figure)
            if section in new:
                merged[section] = new[section]
            else:
                merged.pop(section, None)
    drawn = set(new.get("figures") or [])
    stale = [name for name in dict.fromkeys(dropped) if name not in drawn]
    figures = [name for name in old.get("figures") or [] if name not in stale]
    merged["figures"] = figures + [name for name in new.get("figures") or [] if name not in figures]
    merged["tasks"] = list(dict.fromkeys([*(old.get("tasks") or []), *new["tasks"]]))
    merged["suite"] = suite_name({*_suites_of(old), *suites})
    merged["commands"] = commands_of(old) + new["commands"]
    merged["wall_s"] = round(sum(float(c.get("wall_s") or 0) for c in merged["commands"]), 2)
    for key in ("schema_version", "created", "command", "smoke", "machine"):
        merged[key] = new[key]
    _warn_reused(merged, new, suites, log)
    order = [k for k in KEY_ORDER if k in merged] + [k for k in merged if k not in KEY_ORDER]
    return {k: merged[k] for k in order}, stale


def _warn_reused(merged: dict[str, Any], new: dict[str, Any], suites: list[str],
                 log: Callable[[str], None]) -> None:
    """A kept tradeoff record whose reused points were the quality runs just trained again."""
    if "quality" not in suites or "tradeoff" in suites:
        return
    rerun = {rec["label"] for rec in new.get("quality") or []}
    for rec in merged.get("tradeoff") or []:
        if rec["label"] in rerun and any(p.get("reused") for p in rec.get("points", [])):
            log(f"[benchmarks] note: the kept tradeoff record of {rec['label']} reused quality runs that were "
                f"just replaced (its numbers stand; rerun --suite tradeoff --tasks ... to refresh it)")


def remove_stale_figures(fig_dir: Path, names: list[str]) -> None:
    """Delete the figure files of replaced records (plain file names inside ``fig_dir`` only)."""
    for name in names:
        if name and Path(name).name == name and name not in (".", ".."):
            (fig_dir / name).unlink(missing_ok=True)


def merge_gpu(path: Path, gpu: dict[str, Any]) -> dict[str, Any]:
    """The results.json at ``path`` with its ``gpu`` section replaced by ``gpu``, the rest unchanged."""
    merged = {**read_results(path), "gpu": gpu}
    order = [k for k in KEY_ORDER if k in merged] + [k for k in merged if k not in KEY_ORDER]
    return {k: merged[k] for k in order}
