"""``python -m benchmarks.gpu_check``: recon on a CUDA GPU in one short command.

``bash benchmarks/gpu_check.sh`` calls it. What it runs:

1. every registered task's smoke preset (train, checkpoint, evaluate) in fp32, bf16 and fp16
   (fp16 with the gradient scalers; bf16 only where the GPU has it), in this process;
2. ``trainer.compile`` off and on for mri_superres and srgan (default preset, timed steps after
   a warm-up that includes the compilation): step times, peak memory, the speed-up;
3. a 2-process DDP smoke run over NCCL (``torch.distributed.run``) when 2 or more GPUs are visible.

Every run records its status (ok; failed with the last line of its stderr; skipped with the
reason), wall time, median step time and peak device memory. Everything runs under one time
budget (``--budget-s``, 420 s by default): what the budget leaves out is recorded as skipped and
``results.json`` is always written. Order: the first precision for every task, the first compile
comparison, DDP, the other precisions, the other compile comparisons.

    python -m benchmarks.gpu_check                              # benchmarks/results/<date>-gpu/
    python -m benchmarks.gpu_check --out benchmarks/results/2026-12-05 --append   # add a gpu section
    python -m benchmarks.gpu_check --device cpu --tasks mri_superres --precisions fp32,bf16   # CPU dry run
    python -m benchmarks --update-readme benchmarks/results/2026-12-05           # README's GPU table

Writes ``DIR/results.json`` (its ``gpu`` section; see benchmarks/schema.json), ``DIR/results.md``
and the runs under ``DIR/scratch/``. Exit codes: 0 nothing failed, 1 something failed (still
written), 2 bad usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import time
from pathlib import Path
from typing import Any, Callable

from recon.errors import UsageError

from benchmarks.gpu_runs import PRECISIONS, Budget, precision_skip, smoke_run

RESULTS_ROOT = Path(__file__).with_name("results")
#: tasks whose default preset is compiled and timed
COMPILE_TASKS = ("mri_superres", "srgan")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m benchmarks.gpu_check", description=__doc__.splitlines()[0],
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                        help="cuda (default; without a GPU it says so and exits 0) or cpu: a dry run of the check")
    parser.add_argument("--out", help="output directory (default: benchmarks/results/<date>-gpu/)")
    parser.add_argument("--append", action="store_true",
                        help="put the gpu section into the results.json already in --out (its other sections "
                             "are kept) instead of writing a new one")
    parser.add_argument("--tasks", help="comma-separated task names (default: every registered task)")
    parser.add_argument("--precisions", default=",".join(PRECISIONS),
                        help="comma-separated trainer.precision values (default fp32,bf16,fp16)")
    parser.add_argument("--budget-s", type=float, default=420.0,
                        help="wall-clock budget in seconds (default 420); what it leaves out is recorded as skipped")
    parser.add_argument("--compile-tasks", default=",".join(COMPILE_TASKS),
                        help="tasks whose trainer.compile=false/true step times are compared (default "
                             "mri_superres,srgan; 'none' skips the comparison)")
    parser.add_argument("--compile-preset", default="default", help="their preset (default: default)")
    parser.add_argument("--compile-steps", type=int, default=20, help="timed steps per variant (default 20)")
    parser.add_argument("--compile-warmup", type=int, default=5,
                        help="untimed steps first, the compilation included (default 5)")
    parser.add_argument("--no-ddp", action="store_true", help="leave out the 2-process DDP run")
    return parser


def _names(text: str, option: str, valid: list[str] | tuple[str, ...]) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise UsageError(f"{option}: unknown {', '.join(unknown)} (valid: {', '.join(valid)})")
    return list(dict.fromkeys(names))


def registered_tasks() -> list[str]:
    """Every registered task's name (what ``recon list`` lists)."""
    from recon.plugins import get_plugin_system

    return [entry.name for entry in get_plugin_system().tasks.entries()]


def default_out(root: Path = RESULTS_ROOT) -> Path:
    """``benchmarks/results/<date>-gpu/``; ``<date>-gpu_2`` ... when that holds results already."""
    base = f"{dt.date.today().isoformat()}-gpu"
    out, n = root / base, 1
    while (out / "results.json").exists():
        n += 1
        out = root / f"{base}_{n}"
    return out


def preferred_precision(device: str) -> str:
    """The mixed precision of the compile and DDP runs: bf16 where the device has it, else fp16."""
    return "bf16" if precision_skip(device, "bf16") is None else "fp16"


def _say(kind: str, rec: dict[str, Any]) -> None:
    """One line per finished record on stdout."""
    what = " ".join(str(rec[k]) for k in ("task", "precision") if rec.get(k))
    parts = [f"  {rec['status']:<7} {kind:<8} {what:<32}"]
    if rec.get("wall_s") is not None:
        parts.append(f"{rec['wall_s']:7.1f} s")
    for key, label in (("step_ms", "step"), ("peak_mem_mb", "peak")):
        if rec.get(key) is not None:
            parts.append(f"{label} {rec[key]:g} {'ms' if key == 'step_ms' else 'MiB'}")
    if rec.get("speedup") is not None:
        parts.append(f"compile speed-up {rec['speedup']:g}x")
    if rec.get("reason"):
        parts.append(f"({rec['reason']})")
    print("  ".join(parts), flush=True)


def run_check(args: argparse.Namespace, tasks: list[str], precisions: list[str], compile_tasks: list[str],
              scratch: Path, budget: Budget) -> dict[str, Any]:
    """Every run of the check in priority order; the ``gpu`` section's runs, compile and ddp."""
    from benchmarks.gpu_compile import measure_compile
    from benchmarks.gpu_ddp import ddp_smoke

    device, mixed = args.device, preferred_precision(args.device)
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    compiled: dict[str, dict[str, Any]] = {}
    ddp: dict[str, Any] = {}

    def smoke(task: str, precision: str) -> Callable[[], None]:
        def job() -> None:
            runs[task, precision] = smoke_run(task, precision, device, scratch, budget)
            _say("smoke", runs[task, precision])
        return job

    def compile_job(task: str) -> Callable[[], None]:
        def job() -> None:
            compiled[task] = measure_compile(task, device, scratch, budget, preset=args.compile_preset,
                                             precision=mixed, steps=args.compile_steps, warmup=args.compile_warmup)
            _say("compile", compiled[task])
        return job

    def ddp_job() -> None:
        ddp.update(ddp_smoke(device, mixed, scratch, budget))
        _say("ddp", ddp)

    jobs = [smoke(t, precisions[0]) for t in tasks] + [compile_job(t) for t in compile_tasks[:1]]
    jobs += [] if args.no_ddp else [ddp_job]
    jobs += [smoke(t, p) for p in precisions[1:] for t in tasks] + [compile_job(t) for t in compile_tasks[1:]]
    for job in jobs:
        job()
    section: dict[str, Any] = {"runs": [runs[t, p] for t in tasks for p in precisions],
                               "compile": [compiled[t] for t in compile_tasks]}
    if not args.no_ddp:
        section["ddp"] = ddp
    return section


def _main(args: argparse.Namespace, argv: list[str]) -> int:
    import torch

    from benchmarks.append import merge_gpu
    from benchmarks.gpu_ddp import gpu_machine
    from benchmarks.machine import machine_info
    from benchmarks.suite import write

    budget = Budget(args.budget_s)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU visible to PyTorch; nothing to check (--device cpu dry-runs the check on a CPU)")
        return 0
    if args.compile_steps < 1 or args.compile_warmup < 0:
        raise UsageError("--compile-steps must be at least 1 and --compile-warmup at least 0")
    all_tasks = registered_tasks()
    tasks = _names(args.tasks, "--tasks", all_tasks) if args.tasks else all_tasks
    precisions = _names(args.precisions, "--precisions", PRECISIONS)
    compile_tasks = [] if args.compile_tasks.strip().lower() in ("", "none") else \
        _names(args.compile_tasks, "--compile-tasks", all_tasks)
    if not tasks or not precisions:
        raise UsageError("--tasks and --precisions need at least one name each")
    out = Path(args.out) if args.out else default_out()
    if args.append and not (out / "results.json").is_file():
        raise UsageError(f"--append: {out} holds no results.json to add the gpu section to")
    out.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "-m", "benchmarks.gpu_check", *argv])
    created = dt.datetime.now().isoformat(timespec="seconds")
    machine = gpu_machine(args.device)
    gpus = f": {', '.join(machine['gpus'])}" if machine["gpus"] else ""
    print(f"gpu_check: torch {machine['torch']}, CUDA {machine['cuda']}, {machine['count']} GPU(s){gpus}; device "
          f"{args.device}; tasks {', '.join(tasks)}; precisions {', '.join(precisions)}; budget {args.budget_s:g} s",
          flush=True)
    section = run_check(args, tasks, precisions, compile_tasks, out / "scratch", budget)
    wall = round(budget.spent(), 2)
    gpu = {"created": created, "command": command, "wall_s": wall, "budget_s": args.budget_s,
           "device": args.device, "machine": machine, "tasks": tasks, "precisions": precisions, **section}
    if args.append:
        results = merge_gpu(out / "results.json", gpu)
    else:
        results = {"schema_version": 1, "created": created, "command": command, "suite": "gpu", "smoke": False,
                   "tasks": tasks, "machine": machine_info(args.device), "figures": [], "wall_s": wall, "gpu": gpu}
    write(results, out)
    failed = failures(gpu)
    print(f"gpu_check: {wall:.0f} s; results: {out / 'results.json'}"
          + (f"; FAILED: {', '.join(failed)} (logs under {out / 'scratch'})" if failed else ""), flush=True)
    return 1 if failed else 0


def failures(gpu: dict[str, Any]) -> list[str]:
    """Labels of the failed records of a ``gpu`` section."""
    bad = [f"{r['task']}:{r['precision']}" for r in gpu.get("runs", []) if r.get("status") == "failed"]
    bad += [f"compile:{r['task']}" for r in gpu.get("compile", []) if r.get("status") == "failed"]
    return bad + (["ddp"] if (gpu.get("ddp") or {}).get("status") == "failed" else [])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    start = time.monotonic()
    try:
        return _main(args, argv)
    except UsageError as exc:
        print(f"gpu_check: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gpu_check: interrupted after {time.monotonic() - start:.0f} s", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
