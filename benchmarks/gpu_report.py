"""Markdown of a results.json's ``gpu`` section (``python -m benchmarks.gpu_check``): the full
tables of results.md and the short table of the README, under the speed table.

README: one row per task, one column per precision, each cell the smoke preset's median step
time / peak device memory (or ``failed`` / ``skipped``); then the ``trainer.compile`` speed-ups
and the DDP run in one line each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _num(value: Any, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_text(gpu: dict[str, Any]) -> str:
    """``NVIDIA H100 x1, CUDA 12.8, torch 2.x, driver 570.1`` (``cpu, torch 2.x`` for a dry run)."""
    m = gpu.get("machine") or {}
    if not m.get("gpu"):
        return f"{gpu.get('device', 'cpu')} (dry run), torch {m.get('torch', '?')}"
    parts = [f"{m['gpu']} x{m.get('count', 1)}", f"CUDA {m.get('cuda')}", f"torch {m.get('torch')}"]
    return ", ".join(parts + ([f"driver {m['driver']}"] if m.get("driver") else []))


def _cell(run: dict[str, Any] | None) -> str:
    """``12.3 ms / 456 MiB`` of an ok run; ``failed`` / ``skipped``; ``-`` when not run."""
    if run is None:
        return "-"
    if run.get("status") != "ok":
        return f"*{run.get('status')}*"
    memory = run.get("peak_mem_mb")
    return f"{_num(run.get('step_ms'))} ms" + (f" / {memory:.0f} MiB" if memory is not None else "")


def runs_matrix(gpu: dict[str, Any]) -> str:
    """Task x precision: median step time / peak device memory of the smoke presets."""
    precisions = list(gpu.get("precisions") or [])
    by_key = {(r["task"], r["precision"]): r for r in gpu.get("runs", [])}
    tasks = list(dict.fromkeys(r["task"] for r in gpu.get("runs", [])))
    return _table(["task (smoke preset)", *precisions], [[t, *(_cell(by_key.get((t, p))) for p in precisions)]
                                                        for t in tasks])


def runs_table(gpu: dict[str, Any]) -> str:
    """One row per smoke run with its status, wall time, step time, peak memory and reason."""
    rows = [[r["task"], r["precision"], r["status"], _num(r.get("wall_s")), _num(r.get("step_ms"), 2),
             _num(r.get("peak_mem_mb"), 0), _num(r.get("peak_reserved_mb"), 0), str(r.get("batch_size") or "-"),
             (r.get("reason") or "")[:160]] for r in gpu.get("runs", [])]
    return _table(["task", "precision", "status", "wall (s)", "step (ms)", "peak allocated (MiB)",
                   "peak reserved (MiB)", "batch", "reason"], rows)


def compile_table(gpu: dict[str, Any]) -> str:
    rows = []
    for r in gpu.get("compile", []):
        eager, compiled = r.get("eager") or {}, r.get("compiled") or {}
        rows.append([r["task"], r.get("preset", "-"), r.get("precision", "-"), r["status"],
                     _num(eager.get("step_ms"), 2), _num(compiled.get("step_ms"), 2), _num(r.get("speedup"), 3),
                     _num(eager.get("peak_mem_mb"), 0), _num(compiled.get("peak_mem_mb"), 0),
                     _num(compiled.get("first_step_s")), ", ".join(r.get("fell_back") or []) or "-",
                     (r.get("reason") or "")[:160]])
    return _table(["task", "preset", "precision", "status", "eager step (ms)", "compiled step (ms)",
                   "speed-up", "eager peak (MiB)", "compiled peak (MiB)", "first compiled step (s)", "fell back",
                   "reason"], rows)


def compile_line(gpu: dict[str, Any]) -> str:
    """``torch.compile (inductor, default preset, bf16): mri_superres 1.23x (45.1 -> 36.7 ms), ...``."""
    records = gpu.get("compile") or []
    if not records:
        return ""
    parts = []
    for r in records:
        if r.get("status") == "ok":
            parts.append(f"{r['task']} {r['speedup']:.2f}x ({r['eager']['step_ms']:.1f} → "
                         f"{r['compiled']['step_ms']:.1f} ms/step)")
        else:
            parts.append(f"{r['task']} *{r.get('status')}*")
    first = records[0]
    return (f"`trainer.compile=true` ({first.get('backend', 'inductor')}, {first.get('preset')} preset, "
            f"{first.get('precision')}), eager / compiled step time: {'; '.join(parts)}.")


def ddp_line(gpu: dict[str, Any]) -> str:
    ddp = gpu.get("ddp")
    if not ddp:
        return ""
    head = f"DDP ({ddp.get('nproc')} processes, {ddp.get('backend')}, {ddp.get('task')} smoke): {ddp.get('status')}"
    if ddp.get("status") == "ok":
        return f"{head}, {_num(ddp.get('wall_s'))} s, {_num(ddp.get('step_ms'), 2)} ms/step."
    return f"{head} ({ddp.get('reason')})."


def gpu_markdown(gpu: dict[str, Any]) -> str:
    """The GPU check's part of results.md."""
    out = [f"## GPU check ({machine_text(gpu)})", "",
           f"`{gpu.get('command')}` ({gpu.get('created')}): {_num(gpu.get('wall_s'), 0)} s of a "
           f"{gpu.get('budget_s'):g} s budget. Step times: median over the smoke run's logged steps after the first; "
           "peak memory: `torch.cuda.max_memory_allocated` over the run (training and evaluation).", "",
           runs_matrix(gpu), "", "### Runs", "", runs_table(gpu), ""]
    if gpu.get("compile"):
        out += ["### trainer.compile", "", compile_table(gpu), ""]
    if gpu.get("ddp"):
        out += ["### DDP", "", ddp_line(gpu), ""]
    return "\n".join(out)


def gpu_readme(gpu: dict[str, Any], path: Path, repo: Path) -> list[str]:
    """The README lines of a ``gpu`` section found in the results file ``path``."""
    try:
        where = path.parent.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        where = path.parent.as_posix()
    out = [f"**GPU check** ({str(gpu.get('created', ''))[:10]}, `{gpu.get('command')}`, {machine_text(gpu)}; "
           f"details: `{where}/results.md`): median step time / peak device memory of each smoke preset", "",
           runs_matrix(gpu), ""]
    lines = [line for line in (compile_line(gpu), ddp_line(gpu)) if line]
    return out + ([" ".join(lines), ""] if lines else [])
