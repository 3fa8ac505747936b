"""``recon predict`` (conditional tasks) and ``recon generate`` (unconditional tasks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from recon.errors import UsageError


def cmd_predict(args: argparse.Namespace) -> int:
    from recon.train.inference import load_model
    from recon.train.runtime import resolve_device

    source = Path(args.input)
    if not source.exists():
        raise UsageError(f"{source}: no such file or directory")
    device = resolve_device(args.device)
    model = load_model(args.checkpoint, device=device)
    task, cfg = model.task, model.cfg
    cfg.apply_overrides(args.overrides)
    out = task.predict_file(cfg, model.parts, source, Path(args.output), device)
    print(f"wrote {out}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from recon.train.inference import load_model
    from recon.train.runtime import resolve_device

    if args.n < 1:
        raise UsageError("-n must be at least 1")
    device = resolve_device(args.device)
    model = load_model(args.checkpoint, device=device)
    task, cfg = model.task, model.cfg
    cfg.apply_overrides(args.overrides)
    paths = task.sample_file(cfg, model.parts, args.n, Path(args.output), device, seed=args.seed)
    print(f"wrote {len(paths)} images to {args.output}")
    return 0
