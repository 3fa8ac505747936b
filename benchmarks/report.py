"""Markdown tables of a results.json, and the README's results section generated from them.

``results.md`` holds every table; :func:`readme_section` is the short form that replaces the
text between ``<!-- results:start -->`` and ``<!-- results:end -->`` in README.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recon.errors import UsageError

from benchmarks.append import commands_of
from benchmarks.gpu_report import gpu_markdown, gpu_readme
from benchmarks.machine import machine_line
from benchmarks.speed_report import speed_table

START, END = "<!-- results:start -->", "<!-- results:end -->"
METRIC_ORDER = ["psnr", "ssim", "nmse", "st_lpips", "kid_patch", "lpips", "fid", "kid", "fid_patch", "is"]
#: columns of the trade-off tables (weight first, wall time last)
TRADEOFF_METRICS = ["psnr", "ssim", "st_lpips", "kid_patch", "fid_patch"]


def _fmt(value: Any, digits: int | None = None) -> str:
    """``None`` -> ``-``; ints as they are; floats with ``digits`` decimals (default: 4 below 10, else 2)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if digits is None:
            digits = 4 if abs(value) < 10 else 2
        return f"{value:.{digits}f}"
    return str(value)


def _metric(value: Any) -> str:
    """Metric values: 2 decimals from 10 up (PSNR, FID), 4 from 0.1, else 4 significant digits."""
    if isinstance(value, float) and 0 < abs(value) < 0.1:
        return f"{value:.4g}"
    return _fmt(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def metric_names(records: list[dict[str, Any]]) -> list[str]:
    """Metric columns over all tasks: the usual ones first, then the rest alphabetically."""
    seen = {k for r in records for m in (r.get("metrics") or {}).values() for k, v in m.items()
            if isinstance(v, (int, float)) and not k.endswith("_std")}  # spreads stay in results.json
    return [m for m in METRIC_ORDER if m in seen] + sorted(seen - set(METRIC_ORDER))


def quality_rows(records: list[dict[str, Any]], names: list[str]) -> list[list[str]]:
    """One row per (task, method); wall time and peak memory on the model's row."""
    rows = []
    for rec in records:
        if rec.get("status") != "ok":
            rows.append([rec["label"], f"*{rec.get('status')}*: {rec.get('reason') or ''}"[:120]]
                        + ["-"] * (len(names) + 2))
            continue
        for i, method in enumerate(rec["methods"]):
            metrics = rec["metrics"][method]
            cells = [_metric(metrics.get(n)) for n in names]
            label = f"**{method}**" if i == 0 else method
            extra = [_fmt(rec["wall_s"] / 60, 1), _fmt(rec["peak_rss_mb"] / 1024, 2)] if i == 0 else ["", ""]
            rows.append([rec["label"] if i == 0 else "", label, *cells, *extra])
    return rows


#: metric families kept out of the README's one table (per class, per anatomical property):
#: results.md lists them in full
DETAIL_PREFIXES = ("anat_", "fid_class_", "kid_class_")


def quality_table(records: list[dict[str, Any]], detail: bool = True) -> str:
    """The quality table; ``detail=False`` (the README) leaves out the per-class and anatomical
    columns of :data:`DETAIL_PREFIXES`."""
    names = [n for n in metric_names(records) if detail or not n.startswith(DETAIL_PREFIXES)]
    header = ["task", "method", *names, "wall (min)", "peak RSS (GiB)"]
    return _table(header, quality_rows(records, names))


def runs_table(records: list[dict[str, Any]]) -> str:
    rows = []
    for rec in records:
        for run in rec.get("runs", []):
            rows.append([rec["label"], run["name"], _fmt(run["wall_s"], 1), _fmt(run["peak_rss_mb"], 0),
                         _fmt(run.get("steps")), str(run["returncode"]) + (" (timed out)" if run["timed_out"] else ""),
                         f"`{run['command']}`"])
    table = _table(["task", "run", "wall (s)", "peak RSS (MiB)", "steps", "exit", "command"], rows)
    return "\n".join([table, *parent_notes(records)])


def parent_notes(records: list[dict[str, Any]]) -> list[str]:
    """A line per fine-tuning row: the parent checkpoint's sha256 and the command that scored it as is."""
    lines = []
    for rec in records:
        parent = rec.get("parent")
        if parent:
            scored = f"; scored as is with `{parent['eval_command']}`" if parent.get("eval_command") else ""
            lines.append(f"\n{rec['label']}: fine-tuned from the parent run's checkpoint (sha256 "
                         f"{parent['sha256'][:16]}..., networks {', '.join(parent['init_parts'])}){scored}.")
    return lines


def conventions_list(records: list[dict[str, Any]]) -> str:
    lines = []
    for rec in records:
        conv = rec.get("conventions") or {}
        if conv:
            detail = "; ".join(f"{k}: {v}" for k, v in conv.items() if k != "name")
            lines.append(f"- **{rec['label']}** ({conv.get('name', '?')}, seed {rec.get('seed')}, "
                         f"{rec.get('preset')} preset): {detail}")
    return "\n".join(lines)


def _steps_note(rec: dict[str, Any]) -> str:
    """``N steps``, or ``reduced to N steps (preset: M)`` for a ``--tradeoff-steps`` sweep."""
    if rec.get("reduced"):
        return f"reduced to {rec.get('steps')} steps (preset: {rec.get('preset_steps')})"
    return f"{rec.get('steps')} steps"


def tradeoff_table(rec: dict[str, Any]) -> str:
    """One row per adversarial weight (the default's in bold), then the classical baseline."""
    rows = []
    for p in rec.get("points", []):
        tags = [t for t, on in (("default", p.get("default")), ("reused", p.get("reused"))) if on]
        weight = f"{p['weight']:g}" + (f" ({', '.join(tags)})" if tags else "")
        if p.get("status") != "ok":
            rows.append([weight, f"*failed*: {p.get('reason') or ''}"[:120]] + ["-"] * len(TRADEOFF_METRICS))
            continue
        cells = [weight, *(_metric(p["metrics"].get(n)) for n in TRADEOFF_METRICS), _fmt(p["wall_s"] / 60, 1)]
        rows.append([f"**{c}**" if p.get("default") and c != "-" else c for c in cells])
    base = rec.get("baseline")
    if base:
        rows.append([f"*{base['name']}*", *(_metric(base["metrics"].get(n)) for n in TRADEOFF_METRICS), "-"])
    return _table(["weight (loss.adversarial)", *TRADEOFF_METRICS, "wall (min)"], rows)


def tradeoff_sections(records: list[dict[str, Any]]) -> list[str]:
    """results.md lines: per variant a heading, its table and its figure."""
    out = []
    for rec in records:
        out += [f"### {rec['label']}", ""]
        if rec.get("status") == "skipped" or not rec.get("points"):
            out += [f"*{rec.get('status')}*: {rec.get('reason')}", ""]
            continue
        out += [f"{rec.get('preset')} preset, {_steps_note(rec)}, seed {rec.get('seed')}, "
                f"{rec.get('split', 'test')} split ({rec.get('n_images')} images); default λ = "
                f"{rec.get('default_weight'):g}"
                + ("; reused points are the quality suite's runs." if any(p.get("reused") for p in rec["points"])
                   else "."), "",
                tradeoff_table(rec), ""]
        out += [f"![{name}](figures/{name})" for name in rec.get("figures", [])] + [""]
    return out


def scaling_table(scaling: dict[str, Any]) -> str:
    rows = []
    for p in scaling.get("points", []):
        if p.get("status") != "ok":
            rows.append([str(p["batch_size"]), str(p["patch_size"]), f"failed: {p.get('reason')}"[:80], "", "", ""])
            continue
        rows.append([str(p["batch_size"]), str(p["patch_size"]), _fmt(p["step_ms"], 1), _fmt(p["img_per_s"], 1),
                     _fmt(p.get("cuda_peak_mb", p["peak_rss_mb"]), 0), _fmt(p["step_mem_mb"], 0)])
    return _table(["batch", "patch", "step (ms)", "img/s", "peak memory (MiB)", "added by training (MiB)"], rows)


def _machine_key(machine: dict[str, Any]) -> tuple:
    """What makes two machines the same for the numbers (not the load)."""
    return tuple(machine.get(k) for k in ("cpu", "cores", "torch", "device", "gpu"))


def provenance(results: dict[str, Any]) -> str:
    """Date, command(s) and machine of a results file for the README line: every command of an
    ``--append``-merged file, in order, each with its machine when they differ."""
    commands = commands_of(results)
    if len(commands) <= 1:
        return f"{results['created'][:10]}, `{results['command']}`, {machine_line(results['machine'])}"
    days = sorted({str(c.get("created", ""))[:10] for c in commands})
    when = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
    if len({_machine_key(c.get("machine") or {}) for c in commands}) == 1:
        listed = ", then ".join(f"`{c['command']}`" for c in commands)
        return f"{when}, {len(commands)} commands: {listed}, {machine_line(results['machine'])}"
    listed = ", then ".join(f"`{c['command']}` ({machine_line(c.get('machine') or {})})" for c in commands)
    return f"{when}, {len(commands)} commands: {listed}"


def _header(results: dict[str, Any]) -> list[str]:
    """The lines under the title of results.md: the command (every command of a merged file)."""
    smoke = " (smoke mode: numbers are not meaningful)" if results["smoke"] else ""
    commands = commands_of(results)
    if len(commands) <= 1:
        return [f"`{results['command']}` on {machine_line(results['machine'])}; "
                f"total {results['wall_s'] / 60:.1f} min{smoke}.", ""]
    lines = [f"Merged from {len(commands)} commands (`--append`, oldest first); total {results['wall_s'] / 60:.1f} "
             f"min{smoke}:", ""]
    lines += [f"- `{c['command']}` ({c.get('created')}, {float(c.get('wall_s') or 0) / 60:.1f} min"
              + (f", suite {c['suite']}" if c.get("suite") else "") + f") on {machine_line(c.get('machine') or {})}"
              for c in commands]
    return lines + [""]


def results_markdown(results: dict[str, Any]) -> str:
    """The whole ``results.md``."""
    out = [f"# Benchmark results ({results['created']})", "", *_header(results)]
    quality = results.get("quality")
    if quality:
        out += ["## Quality (test split, model beside each baseline)", "", quality_table(quality), "",
                "### Runs", "", runs_table(quality), "", "### Metric conventions", "", conventions_list(quality), ""]
    if results.get("tradeoff"):
        out += ["## Perception–distortion trade-off (same generator, seed and steps at each adversarial weight)",
                "", *tradeoff_sections(results["tradeoff"])]
    if results.get("speed"):
        out += ["## Speed (ratios measured in one process)", "", speed_table(results["speed"]), ""]
    if results.get("scaling"):
        sc = results["scaling"]
        out += [f"## Scaling ({sc['task']}, {sc.get('preset')} preset networks)", "", scaling_table(sc), ""]
    out += [gpu_markdown(results["gpu"]), ""] if results.get("gpu") else []
    if results.get("figures"):
        out += ["## Figures", ""] + [f"![{name}](figures/{name})" for name in results["figures"]] + [""]
    return "\n".join(out)


def print_tables(results: dict[str, Any]) -> None:
    print(results_markdown(results))


# -- README ---------------------------------------------------------------------------------
def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: not a readable results.json ({exc})") from None


def latest_results(root: Path) -> tuple[tuple[Path, dict] | None, tuple[Path, dict] | None]:
    """The newest results with a quality section and the newest with a speed section.

    Full runs are preferred to ``--smoke`` runs; among equals the newest ``created`` wins.
    """
    found = [(p, _load(p)) for p in sorted(root.glob("*/results.json"))]
    if not found:
        raise UsageError(f"no results under {root}: run `python -m benchmarks` first")

    def pick(section: str) -> tuple[Path, dict] | None:
        have = [(p, r) for p, r in found if r.get(section)]
        return max(have, key=lambda pr: (not pr[1].get("smoke"), pr[1].get("created", ""))) if have else None
    return pick("quality"), pick("speed")


def _signed(value: float, digits: int) -> str:
    """``+1.2`` / ``−1.2`` (a true minus sign), ``±0`` when it rounds to zero."""
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0:
        return "±" + text
    return ("−" if value < 0 else "+") + text


def _change(key: str, default: dict[str, Any], twin: dict[str, Any]) -> str | None:
    """How the default's ``key`` differs from the twin's: dB for PSNR, % otherwise (absolute when
    the twin's value is not positive, as an unbiased KID can be)."""
    d, t = default.get(key), twin.get(key)
    if not isinstance(d, (int, float)) or not isinstance(t, (int, float)):
        return None
    if key == "psnr":
        return f"PSNR {_signed(d - t, 2)} dB"
    if t > 0:
        pct = 100 * (d - t) / t
        return f"{key} {_signed(pct, 0 if abs(pct) >= 10 else 1)} %"
    return f"{key} {_metric(float(t))} → {_metric(float(d))}"


def tradeoff_lines(records: list[dict[str, Any]]) -> list[str]:
    """One line per swept task: its default point against its non-adversarial twin."""
    lines = []
    for rec in records:
        ok = [p for p in rec.get("points", []) if p.get("status") == "ok"]
        twin = next((p for p in ok if p["weight"] == 0), None)
        default = next((p for p in ok if p.get("default")), None)
        if rec.get("status") != "ok" or twin is None or default is None or default is twin:
            continue
        parts = [c for c in (_change(k, default["metrics"], twin["metrics"]) for k in ("st_lpips", "kid_patch", "psnr"))
                 if c]
        steps = f", {_steps_note(rec)}" if rec.get("reduced") else ""
        lines.append(f"- {rec['label']}: {' / '.join(parts)} vs the non-adversarial twin "
                     f"(λ={default['weight']:g}{steps})")
    return lines


#: the quality suite's method names of a default and its twin
ADVERSARIAL, TWIN = "recon (adversarial)", "non-adversarial"


def twin_lines(records: list[dict[str, Any]]) -> list[str]:
    """One line per quality row that has a twin: the default preset against the same generator
    trained without the adversarial term, both full-length runs of the results table."""
    lines = []
    for rec in records:
        metrics = rec.get("metrics") or {}
        if rec.get("status") != "ok" or ADVERSARIAL not in metrics or TWIN not in metrics:
            continue
        parts = [c for c in (_change(k, metrics[ADVERSARIAL], metrics[TWIN]) for k in ("st_lpips", "kid_patch", "psnr"))
                 if c]
        steps = next((r.get("steps") for r in rec.get("runs", []) if r.get("steps")), None)
        lines.append(f"- {rec['label']}: {' / '.join(parts)} vs the non-adversarial twin "
                     f"({rec.get('preset', 'default')} preset{f', {steps} steps' if steps else ''})")
    return lines


def _tradeoff_readme(res: dict[str, Any], where: Path) -> list[str]:
    """The default-vs-twin lines (from the quality rows; a sweep's default point for a task
    without one) and ONE sweep figure for the README: that of the README's lead task,
    mri_superres, else srgan's, else the first; the other sweeps' figures as links."""
    records = res.get("tradeoff") or []
    quality = res.get("quality") or []
    lines = twin_lines(quality)
    covered = {r["label"] for r in quality if r.get("label")} if lines else set()
    lines += tradeoff_lines([r for r in records if r.get("label") not in covered])
    with_figure = [r for r in records if r.get("figures")]
    by_task = {r.get("task"): r for r in reversed(with_figure)}
    pick = by_task.get("mri_superres") or by_task.get("srgan") or (with_figure[0] if with_figure else None)
    if not lines and pick is None:
        return []
    out = ["Perception–distortion trade-off: each default against the same generator trained without the "
           "adversarial term (its twin); lower ST-LPIPS / patch KID = more realistic:", "", *lines, ""]
    if pick is not None:
        name = pick["figures"][0]
        steps = f" ({_steps_note(pick)})" if pick.get("reduced") else ""
        others = [f"[{r['label']}]({where.as_posix()}/figures/{r['figures'][0]})" for r in with_figure if r is not pick]
        out += [f"The sweep of the adversarial weight, same seed and steps at each weight{steps}; "
                f"the other sweeps: {', '.join(others)}." if others else
                f"The sweep of the adversarial weight, same seed and steps at each weight{steps}.", "",
                f"![{pick['label']}: perception–distortion trade-off]({where.as_posix()}/figures/{name})", ""]
    return out


def readme_section(quality: tuple[Path, dict] | None, speed: tuple[Path, dict] | None, repo: Path) -> str:
    """The generated text that goes between the README markers."""
    out = ["", "<!-- generated by `python -m benchmarks --update-readme`: do not edit by hand -->", ""]
    same = quality is not None and speed is not None and quality[0] == speed[0]
    for title, picked in (("Quality", quality), ("Speed", speed)):
        if picked is None:
            continue
        path, res = picked
        if same and title == "Speed":
            out += [speed_table(res["speed"]), ""]
            continue
        try:
            where = path.parent.resolve().relative_to(repo.resolve())
        except ValueError:
            where = path.parent
        smoke = " **smoke mode: not meaningful**" if res.get("smoke") else ""
        out += [f"**{'Results' if same else title}** ({provenance(res)}; details: `{where}/results.md`){smoke}", ""]
        if title == "Quality":
            out += [quality_table(res["quality"], detail=False), ""] if res.get("quality") else []
            out += _tradeoff_readme(res, where)
        else:
            out += [speed_table(res["speed"]), ""]
    gpu = next((p for p in (speed, quality) if p is not None and p[1].get("gpu")), None)
    out += gpu_readme(gpu[1]["gpu"], gpu[0], repo) if gpu is not None else []
    return "\n".join(out)


def update_readme(readme: Path, results_dir: Path | None, results_root: Path) -> Path:
    """Replace the text between the markers of ``readme`` with the latest results' tables."""
    if not readme.is_file():
        raise UsageError(f"{readme}: no such file")
    text = readme.read_text()
    if START not in text or END not in text or text.index(START) > text.index(END):
        raise UsageError(f"{readme}: the markers {START} and {END} are missing (add them where the table goes)")
    if results_dir is not None:
        path = results_dir / "results.json" if results_dir.is_dir() else results_dir
        if not path.is_file():
            raise UsageError(f"{results_dir}: no results.json there")
        res = _load(path)
        quality = (path, res) if res.get("quality") or res.get("tradeoff") else None
        speed = (path, res) if res.get("speed") else None
    else:
        quality, speed = latest_results(results_root)
    if quality is None and speed is None:
        raise UsageError("the results hold no quality, tradeoff or speed section")
    section = readme_section(quality, speed, readme.parent)
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + START + section + "\n" + END + tail)
    return readme
