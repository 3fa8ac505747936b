"""Trainer overhead: recon's training step against a plain hand-written PyTorch loop (and MONAI).

Both loops train the same networks (the task's default preset) on the same batch with the
same losses (the task's content terms + the adversarial loss, lazy R1), the same Adam
optimizers and the same EMA update; see :mod:`benchmarks.loops`. Steps are timed
interleaved (A, B, B, A ...) in one process so machine noise hits both equally; the script
prints the median step times and their ratio. This is the first part of the speed suite
(``python -m benchmarks --suite speed``), runnable on its own:

    python -m benchmarks.trainer_overhead [--task mri_superres] [--steps 30] [--monai]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import torch


def measure(task_name: str = "mri_superres", steps: int = 30, warmup: int = 5, adversarial: bool = True,
            with_monai: bool = False, preset: str = "default") -> dict[str, Any]:
    """Median step time of recon's trainer and of the plain loop, and their ratio."""
    from benchmarks.speed import build_trainer, time_loops

    overrides = ["trainer.grad_clip=0"]
    if not adversarial:
        overrides.append("loss.adversarial=0")
    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(task_name, preset, overrides, "cpu", Path(tmp))
        batch = trainer.to_device(next(trainer.batch_iterator()))
        timing = time_loops(trainer, batch, steps, warmup, with_monai=with_monai)
        batch_size = trainer.cfg.trainer.batch_size
    return {"task": task_name, "batch_size": batch_size, "steps": steps,
            "recon_step_ms": timing["recon_ms"], "plain_step_ms": timing["plain_ms"],
            "ratio": timing["ratio_plain"], "target_ratio": timing["target_plain"],
            "recon_cpu_ms": timing["recon_cpu_ms"], "plain_cpu_ms": timing["plain_cpu_ms"],
            "ratio_cpu": timing["ratio_plain_cpu"],
            "monai_step_ms": timing["monai_ms"], "ratio_monai": timing["ratio_monai"],
            "torch": torch.__version__, "threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="mri_superres")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--monai", action="store_true", help="also time MONAI's GanTrainer (needs pytorch-ignite)")
    args = parser.parse_args()
    print(json.dumps(measure(args.task, args.steps, args.warmup, with_monai=args.monai, preset=args.preset),
                     indent=2))


if __name__ == "__main__":
    main()
