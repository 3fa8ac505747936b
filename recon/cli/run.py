"""``recon run``: resolve the config, prepare the run directory, train, evaluate, report."""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any

from recon.errors import UsageError


def check_writable(path: Path) -> bool:
    """Refuse an output directory that cannot be created or written, before any work.

    Creates the directory (and parents) and a probe file in it; removes the probe. Returns
    whether this call created ``path`` itself (its ``mkdir`` is the one that succeeded).
    """
    for parent in [path, *path.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"--out {path}: {parent} is a file, not a directory")
            break
    probe = path / f".recon-write-test-{socket.gethostname()}-{os.getpid()}"
    created = False
    try:
        try:
            path.mkdir(parents=True)
            created = True
        except FileExistsError:
            if not path.is_dir():
                raise
        probe.write_bytes(b"")
        probe.unlink(missing_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {path} is not writable ({exc.strerror or type(exc).__name__})") from None
    return created


def _missing_parents(path: Path) -> list[Path]:
    """The ancestors of ``path`` that do not exist yet, deepest first."""
    missing = []
    for parent in path.absolute().parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def _remove_refused_run(run_dir: Path, parents: list[Path]) -> None:
    """Remove the run directory this invocation created for a run refused before it trained
    (no checkpoint, log or sample yet), and the parents it created when they are empty."""
    if any((run_dir / name).exists() for name in ("checkpoints", "metrics.jsonl", "samples", "eval.json")):
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    for parent in parents:
        try:
            parent.rmdir()
        except OSError:  # not empty: someone else's now
            break


def _say_complete(task: str, run_dir: Path, step: int, max_steps: int) -> None:
    """``--resume`` of a run that has reached ``trainer.max_steps``: nothing to train."""
    from recon.train.faults import resume_command

    print(f"run already complete (step {step} of {max_steps}): nothing to train; to train longer: "
          f"{resume_command(task, run_dir)} --set trainer.max_steps={2 * max(step, 1)}", flush=True)


def _dotted(config: dict[str, Any]) -> dict[str, Any]:
    """``{"trainer.max_steps": 6, "seed": 0, ...}`` of a :meth:`RunConfig.to_dict` mapping."""
    out: dict[str, Any] = {}
    for name, value in config.items():
        if isinstance(value, dict):
            out.update({f"{name}.{key}": item for key, item in value.items()})
        else:
            out[name] = value
    return out


def _refuse_changes_on_resume(args: argparse.Namespace, task: Any, saved: dict[str, Any], run_dir: Path) -> None:
    """``--preset``, ``--config``, ``--seed`` and ``--data`` with ``--resume`` must not change the run
    (they would be ignored or swap its data); ``--set`` is the way to change a value on resume."""
    from recon.config import config_from_dict, load_yaml

    fresh = "; a different one is a new run: choose another --out"
    if args.preset is not None and args.preset != saved.get("preset"):
        raise UsageError(f"--preset {args.preset} with --resume: the run in {run_dir} uses preset "
                         f"{saved.get('preset')}; leave --preset out to resume it{fresh}")
    if args.seed is not None and args.seed != saved.get("seed"):
        raise UsageError(f"--seed {args.seed} with --resume: the run in {run_dir} uses seed {saved.get('seed')}; "
                         f"leave --seed out to resume it{fresh}")
    if args.data:
        data, source = Path(args.data), str(saved.get("data", {}).get("source", ""))
        if not data.exists():
            raise UsageError(f"--data {data}: no such file or directory")
        if str(data.resolve()) != source:
            raise UsageError(f"--data {data} with --resume: the run in {run_dir} trains on "
                             f"{source or 'its built-in data'}; leave --data out to resume it{fresh}")
    if args.config:
        before = config_from_dict(task, saved)
        after = before.copy()
        after.update(load_yaml(args.config), origin=str(args.config))
        old, new = _dotted(before.to_dict()), _dotted(after.to_dict())
        changed = [key for key, value in new.items() if old.get(key) != value]
        if changed:
            raise UsageError(f"--config {args.config} with --resume would change {', '.join(changed[:3])}"
                             f"{' ...' if len(changed) > 3 else ''} of the run in {run_dir}; leave --config out, "
                             "and change a value on resume with --set KEY=VALUE")


def _refuse_init_on_resume(args: argparse.Namespace, run_dir: Path, saved: dict[str, Any] | None = None,
                           cfg: Any = None) -> None:
    """A resumed run restores its own checkpoint: ``--init-from`` / ``--init-parts``, or a ``--set`` of
    ``trainer.init_*`` (its recorded parent) that changes it, would not take effect."""
    if args.init_from or args.init_parts:
        option = "--init-from" if args.init_from else "--init-parts"
        raise UsageError(f"{option} with --resume: a resumed run continues from its own checkpoint in {run_dir}; "
                         "leave it out to resume, or start a new fine-tuned run with another --out")
    if saved is None or cfg is None:
        return
    before = saved.get("trainer", {})
    for key in ("init_from", "init_parts", "init_sha256"):
        if key in before and before[key] != _dotted(cfg.to_dict()).get(f"trainer.{key}"):
            raise UsageError(f"--set trainer.{key} with --resume: it records the parent of the run in {run_dir} "
                             "and cannot change; leave it out to resume")


def _apply_init_options(args: argparse.Namespace, cfg: Any) -> None:
    """``--init-from CKPT`` and ``--init-parts a,b`` of a new run into ``trainer.init_*``."""
    if args.init_parts and not args.init_from:
        raise UsageError("--init-parts needs --init-from CKPT (the checkpoint whose weights it names)")
    if args.init_from:
        cfg.set("trainer.init_from", str(Path(args.init_from).resolve()))
        cfg.set("trainer.init_sha256", "")  # recorded from the file itself
    if args.init_parts:
        cfg.set("trainer.init_parts", [part.strip() for part in args.init_parts.split(",") if part.strip()])


def default_run_dir(task: str) -> Path:
    return Path("runs") / task / time.strftime("%Y%m%d-%H%M%S")


def cmd_run(args: argparse.Namespace) -> int:
    from recon.config import build_config, config_from_dict, resolve_preset
    from recon.evaluation import format_table
    from recon.plugins import get_task
    from recon.train.checkpoint import LAST, load_latest

    task = get_task(args.task)
    run_dir = Path(args.out) if args.out else default_run_dir(task.name)
    state = None
    if args.resume:
        _refuse_init_on_resume(args, run_dir)
        ckpt_dir = run_dir / "checkpoints"
        if not (ckpt_dir / LAST).exists() and not (ckpt_dir / "prev.pt").exists():
            raise UsageError(f"--resume: no checkpoint in {ckpt_dir}")
        state = load_latest(ckpt_dir, task.name, on_fallback=lambda m: print(f"recon: warning: {m}", file=sys.stderr))
        _refuse_changes_on_resume(args, task, state["config"], run_dir)
        cfg = config_from_dict(task, state["config"])
        cfg.apply_overrides(args.overrides)
        _refuse_init_on_resume(args, run_dir, state["config"], cfg)
        if args.device:
            cfg.device = args.device
    else:
        cfg = build_config(task, resolve_preset(args.preset, args.config), config_file=args.config,
                           overrides=args.overrides, seed=args.seed, device=args.device)
        if (run_dir / "checkpoints" / LAST).exists():
            raise UsageError(f"{run_dir} already holds a run: pass --resume to continue it, or choose another --out")
        if args.data:
            data = Path(args.data)
            if not data.exists():
                raise UsageError(f"--data {data}: no such file or directory")
            cfg.data.source = str(data.resolve())
        _apply_init_options(args, cfg)
    from recon.train.config_checks import check_config

    check_config(cfg, task)  # before any work: ranges, registered loss / networks / metrics
    if cfg.eval.compare_checkpoint:
        from recon.train.inference import check_comparable

        check_comparable(cfg.eval.compare_checkpoint, task, "eval.compare_checkpoint")
    parent = None
    if state is None:  # fine-tuning: a bad parent is refused before the run directory exists
        from recon.train.init_from import check_init_options, load_parent

        check_init_options(cfg)
        parent = load_parent(cfg) if cfg.trainer.init_from else None  # weights_only; records init_sha256
    parents = _missing_parents(run_dir)
    created = check_writable(run_dir) and not args.resume

    from recon.train.lock import RunLock
    from recon.train.trainer import Trainer

    locked = False
    try:
        with RunLock(run_dir, resume=args.resume) as lock:
            locked = lock.held
            trainer = Trainer(task, cfg, run_dir, resume_state=state, init_state=parent)  # checks it fits
            if state is not None and trainer.step >= cfg.trainer.max_steps:
                if trainer.dist.is_main:
                    _say_complete(task.name, run_dir, trainer.step, cfg.trainer.max_steps)
                return 0
            if trainer.dist.is_main:
                (run_dir / "config.yaml").write_text(cfg.to_yaml())
            result = trainer.fit()
    except UsageError:
        if created and locked:  # refused before training (preflight, data): leave nothing behind
            _remove_refused_run(run_dir, parents)
        raise
    if trainer.dist.is_main:
        print(format_table(result))
        print(f"run directory: {run_dir}")
        sys.stdout.flush()
    return 0


