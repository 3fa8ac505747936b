"""``recon eval``: score a checkpoint on the built-in test split or on the user's data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recon.errors import UsageError

if TYPE_CHECKING:
    from recon.config import RunConfig


def cmd_eval(args: argparse.Namespace) -> int:
    from recon.evaluation import format_table
    from recon.train.config_checks import check_eval_metrics
    from recon.train.inference import comparison_name, load_generator, load_model
    from recon.train.runtime import resolve_device

    from recon.cli.predict import check_inference_overrides

    check_inference_overrides(args.overrides, "eval")
    device = resolve_device(args.device)
    model = load_model(args.checkpoint, device=device)
    task, cfg, generator = model.task, model.cfg, model.generator
    cfg.apply_overrides(args.overrides)
    check_eval_metrics(cfg, task)  # --set eval.metrics=[...]: registered metrics, paired tasks only
    cap_source = _apply_cap(args, cfg)
    if args.data:
        data = Path(args.data)
        if not data.exists():
            raise UsageError(f"--data {data}: no such file or directory")
        cfg.data.source = str(data.resolve())
        cfg.data.holdout = False  # the user's images are all evaluation data
    extra = {}
    if args.compare:
        other, other_cfg = load_generator(args.compare, task, device)
        extra[comparison_name(other_cfg, cfg.eval.compare_label)] = other
    from recon.evaluation import evaluate_task

    result = evaluate_task(task, model.parts, cfg, generator, args.split, device, extra)
    if args.data:
        result["data"] = cfg.data.source  # the table says "on your data"; "split" stays for the format
    note = _cap_note(result, cfg.eval.max_images, cap_source)
    if note:
        print(note, file=sys.stderr)
    text = json.dumps(result, indent=2)
    if args.json and args.json != "-":
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    if args.json == "-":
        print(text)
    else:
        print(format_table(result))
    return 0


def _apply_cap(args: argparse.Namespace, cfg: "RunConfig") -> str:
    """Set ``cfg.eval.max_images`` for this evaluation; returns what set the cap (for the note).

    ``--max-images N`` wins (0 = every image). ``--data`` evaluates every image of the user's
    data unless ``--set eval.max_images=N`` asks for a cap (the checkpoint's ``eval.max_images``,
    e.g. 4 in the smoke preset, is for the built-in test split). Without ``--data`` the
    checkpoint's value stays, so the numbers match the run's eval.json.
    """
    if args.max_images is not None:
        if args.max_images < 0:
            raise UsageError(f"--max-images must be >= 0 (0 = every image), got {args.max_images}")
        cfg.eval.max_images = args.max_images
        return f"--max-images {args.max_images}"
    if any(item.split("=", 1)[0].strip() == "eval.max_images" for item in args.overrides):
        return f"--set eval.max_images={cfg.eval.max_images}"
    if args.data:
        cfg.eval.max_images = 0
        return ""
    return f"eval.max_images={cfg.eval.max_images} of the checkpoint's config"


def _cap_note(result: dict[str, Any], cap: int, source: str) -> str | None:
    """One line when ``eval.max_images`` left images out (``None`` when every image was scored)."""
    if not cap:
        return None
    if "n_available" in result:  # paired tasks: the cap left images out
        return (f"recon: note: evaluated {result['n_images']} of {result['n_available']} images ({source}); "
                "--max-images 0 evaluates every image")
    if result.get("n_real") == cap:  # unconditional tasks: the real images compared with the samples
        return (f"recon: note: compared with at most {cap} real images ({source}); "
                "--max-images 0 uses every image")
    return None
