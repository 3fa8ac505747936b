"""``recon eval``: score a checkpoint on the built-in test split or on the user's data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recon.errors import UsageError


def cmd_eval(args: argparse.Namespace) -> int:
    from recon.evaluation import format_table
    from recon.train.config_checks import check_eval_metrics
    from recon.train.inference import comparison_name, load_generator, load_model
    from recon.train.runtime import resolve_device

    device = resolve_device(args.device)
    model = load_model(args.checkpoint, device=device)
    task, cfg, generator = model.task, model.cfg, model.generator
    cfg.apply_overrides(args.overrides)
    check_eval_metrics(cfg, task)  # --set eval.metrics=[...]: registered metrics, paired tasks only
    if args.data:
        data = Path(args.data)
        if not data.exists():
            raise UsageError(f"--data {data}: no such file or directory")
        cfg.data.source = str(data.resolve())
        cfg.data.holdout = False  # the user's images are all evaluation data
    extra = {}
    if args.compare:
        other, other_cfg = load_generator(args.compare, task, device)
        extra[comparison_name(other_cfg)] = other
    from recon.evaluation import evaluate_task

    result = evaluate_task(task, model.parts, cfg, generator, args.split, device, extra)
    text = json.dumps(result, indent=2)
    if args.json and args.json != "-":
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    if args.json == "-":
        print(text)
    else:
        print(format_table(result))
    return 0
