"""``recon run``: resolve the config, prepare the run directory, train, evaluate, report."""

from __future__ import annotations

import argparse

import os
import socket
import sys
import time
from pathlib import Path

from recon.errors import UsageError


def check_writable(path: Path) -> None:
    """Refuse an output directory that cannot be created or written, before any work.

    Creates the directory (and parents) and a probe file in it; removes the probe.
    """
    for parent in [path, *path.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"--out {path}: {parent} is a file, not a directory")
            break
    probe = path / f".recon-write-test-{socket.gethostname()}-{os.getpid()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink(missing_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {path} is not writable ({exc.strerror or type(exc).__name__})") from None


def default_run_dir(task: str) -> Path:
    return Path("runs") / task / time.strftime("%Y%m%d-%H%M%S")


def cmd_run(args: argparse.Namespace) -> int:
    from recon.config import build_config, config_from_dict
    from recon.evaluation import format_table
    from recon.plugins import get_task
    from recon.train.checkpoint import LAST, load_latest

    task = get_task(args.task)
    run_dir = Path(args.out) if args.out else default_run_dir(task.name)
    state = None
    if args.resume:
        ckpt_dir = run_dir / "checkpoints"
        if not (ckpt_dir / LAST).exists() and not (ckpt_dir / "prev.pt").exists():
            raise UsageError(f"--resume: no checkpoint in {ckpt_dir}")
        state = load_latest(ckpt_dir, task.name, on_fallback=lambda m: print(f"recon: warning: {m}", file=sys.stderr))
        cfg = config_from_dict(task, state["config"])
        cfg.apply_overrides(args.overrides)
        if args.device:
            cfg.device = args.device
    else:
        cfg = build_config(task, args.preset, config_file=args.config, overrides=args.overrides,
                           seed=args.seed, device=args.device)
        if (run_dir / "checkpoints" / LAST).exists():
            raise UsageError(f"{run_dir} already holds a run: pass --resume to continue it, or choose another --out")
    if args.data:
        data = Path(args.data)
        if not data.exists():
            raise UsageError(f"--data {data}: no such file or directory")
        cfg.data.source = str(data.resolve())
    from recon.train.config_checks import check_config

    check_config(cfg, task)  # before any work: ranges, registered loss / networks / metrics
    check_writable(run_dir)

    from recon.train.lock import RunLock
    from recon.train.trainer import Trainer

    with RunLock(run_dir, resume=args.resume):
        trainer = Trainer(task, cfg, run_dir, resume_state=state)
        if trainer.dist.is_main:
            (run_dir / "config.yaml").write_text(cfg.to_yaml())
        result = trainer.fit()
    if trainer.dist.is_main:
        print(format_table(result))
        print(f"run directory: {run_dir}")
        sys.stdout.flush()
    return 0


