"""Data pipeline benchmark: throughput vs the default preset's consumption, file reads, memory.

1. Consumption: ``recon run --task mri_superres --preset default`` for a short run (G-only
   warm-up steps, then adversarial steps), ``img_per_s`` read from its metrics.jsonl.
2. Throughput: the same run's training dataset (default preset, mni152) drawn through the
   trainer's ``StepBatchSampler`` + ``DataLoader`` (0 and 2 workers) with nothing else running.
   Printed: the ratio throughput / consumption (the target is >= 3).
   Simulation (``data.simulate_on``): the same DataLoader measuring each sample on the CPU
   (``cpu``), against drawing only the clean patches + operator parameters and measuring the
   collated batch on the device (``device``: ``--device``, the CPU by default), in img/s, for
   ``--tasks`` (default: mri_superres and mri_kspace).
3. File reads: a folder of NIfTI volumes loaded once, then two "epochs" of patches; ``open``
   audit events under the folder are counted per phase (epoch 2 must read nothing).
4. Memory: peak RSS of a fresh process loading the mni152 source (T1 + simulated T2/PD and the
   2D/paired/3D splits), cold (empty disk cache: nilearn decodes) and warm (cache hit).

    python -m benchmarks.bench_data [--steps 60] [--batches 40] [--json out.json]
    python -m benchmarks.bench_data --simulation-only [--tasks mri_superres mri_kspace] [--device cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MEMORY_SCRIPT = """
import resource, sys, time
t = time.perf_counter()
from recon.data.sources import mni152
from recon.data.images2d import ImageSpec, load_split_images
from recon.data.pairs2d import PairSpec, load_split_pairs
from recon.data.volumes3d import load_split_volumes
for c in ("t1", "t2", "pd"):
    mni152(c)
for s in ("train", "val", "test"):
    load_split_images(ImageSpec(source="mni152", multiple=4), s)
    load_split_pairs(PairSpec(source="mni152", roles=("t1", "t2", "pd"), multiple=4), s)
    load_split_volumes(ImageSpec(source="mni152", multiple=4), s)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, time.perf_counter() - t)
"""


def consumption(steps: int, warmup_steps: int) -> dict[str, float]:
    """img/s of a short default-preset run: G-only warm-up steps, then adversarial steps."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "recon", "run", "--task", "mri_superres", "--preset", "default",
               "--out", str(Path(tmp) / "run"), "--set", f"trainer.max_steps={steps}",
               "--set", f"trainer.d_warmup_steps={warmup_steps}", "--set", "trainer.eval_every=0",
               "--set", "trainer.sample_every=0", "--set", "trainer.checkpoint_every=0",
               "--set", "trainer.log_every=10", "--set", "trainer.progress=false", "--set", "eval.max_images=1"]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        records = [json.loads(line) for line in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if "img_per_s" in r and r["step"] > 10]  # skip the first window (start-up)
    g_only = [r["img_per_s"] for r in train if r["step"] <= warmup_steps]
    adversarial = [r["img_per_s"] for r in train if r["step"] > warmup_steps + 10]
    return {"g_only_img_per_s": sum(g_only) / max(len(g_only), 1),
            "adversarial_img_per_s": sum(adversarial) / max(len(adversarial), 1)}


def throughput(batches: int, workers: int, overrides: list[str] | None = None) -> dict[str, float]:
    """img/s of the default preset's training DataLoader alone."""
    from torch.utils.data import DataLoader

    from recon.config import build_config
    from recon.plugins import get_task
    from recon.train.runtime import DistInfo
    from recon.train.sampler import StepBatchSampler

    task = get_task("mri_superres")
    cfg = build_config(task, "default", overrides=overrides or [])
    start = time.perf_counter()
    dataset = task.build_dataset(cfg, "train")
    build_s = time.perf_counter() - start
    sampler = StepBatchSampler(cfg.trainer.batch_size, 1, DistInfo())
    loader = iter(DataLoader(dataset, batch_sampler=sampler, num_workers=workers,
                             persistent_workers=workers > 0))
    for _ in range(3):  # workers start-up
        next(loader)
    start = time.perf_counter()
    for _ in range(batches):
        next(loader)
    elapsed = time.perf_counter() - start
    return {"img_per_s": batches * cfg.trainer.batch_size / elapsed, "build_s": build_s, "workers": workers}


def simulation_throughput(task_name: str, batches: int, workers: int, simulate_on: str,
                          device: str = "cpu", preset: str = "default") -> dict[str, float]:
    """img/s of ``task_name``'s training batches (``preset``) with ``data.simulate_on``: the
    DataLoader measuring per sample (``cpu``), or drawing targets + parameters and the batch
    measured on ``device`` after the move (``device``), as the trainer does."""
    import torch
    from torch.utils.data import DataLoader

    from recon.config import build_config
    from recon.plugins import get_task
    from recon.train.device_simulation import device_simulation
    from recon.train.runtime import DistInfo
    from recon.train.sampler import StepBatchSampler

    task = get_task(task_name)
    cfg = build_config(task, preset, overrides=[f"data.simulate_on={simulate_on}"])
    dataset = task.build_dataset(cfg, "train")
    target = torch.device(device)

    def to_device(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(target, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}

    simulation = device_simulation(task, cfg, dataset, to_device)
    sampler = StepBatchSampler(cfg.trainer.batch_size, 1, DistInfo())
    loader = DataLoader(dataset if simulation is None else simulation.dataset, batch_sampler=sampler,
                        num_workers=workers, persistent_workers=workers > 0, pin_memory=target.type == "cuda")
    batches_iter = iter(loader) if simulation is None else simulation.batches(loader)
    step = (lambda: to_device(next(batches_iter))) if simulation is None else (lambda: next(batches_iter))
    for _ in range(3):  # workers start-up
        step()
    start = time.perf_counter()
    for _ in range(batches):
        last = step()
    if target.type == "cuda":
        torch.cuda.synchronize(target)
    elapsed = time.perf_counter() - start
    assert "input" in last
    return {"img_per_s": batches * cfg.trainer.batch_size / elapsed, "workers": workers,
            "batch_size": cfg.trainer.batch_size}


def simulation(tasks: list[str], batches: int, device: str) -> dict[str, Any]:
    """``{task: {"cpu_workers0": ..., "device_workers0": ..., ...}}`` (0 and 2 workers each)."""
    return {task: {f"{where}_workers{w}": simulation_throughput(task, batches, w, where, device)
                   for where in ("cpu", "device") for w in (0, 2)} for task in tasks}


def print_simulation(result: dict[str, Any], device: str) -> None:
    """One line per task: img/s of the CPU and the device path, 0 and 2 workers."""
    for task, rows in result.items():
        paths = "; ".join(f"simulate_on={where}: " + ", ".join(
            f"{w} workers {rows[f'{where}_workers{w}']['img_per_s']:.0f}" for w in (0, 2))
            for where in ("cpu", "device"))
        print(f"{task} (batch {rows['cpu_workers0']['batch_size']}, device {device}) img/s: {paths}")


def file_reads() -> dict[str, int]:
    """``open`` events under a NIfTI folder: loading, epoch 1, epoch 2 (and the other splits)."""
    import nibabel as nib
    import numpy as np
    import torch

    from recon.data.images2d import ImageSpec, load_split_images
    from recon.data.patches import RandomPatchDataset

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        for i in range(4):
            nib.save(nib.Nifti1Image(rng.random((64, 64, 24)).astype(np.float32), np.eye(4)), f"{tmp}/s{i}.nii.gz")
        opened: list[str] = []
        sys.addaudithook(lambda event, args: opened.append(str(args[0]))
                         if event == "open" and str(args[0]).startswith(tmp) else None)
        counts = {}
        spec = ImageSpec(source=tmp, min_foreground=0.0)
        images = load_split_images(spec, "train")
        counts["load"] = len(opened)
        data = RandomPatchDataset([torch.from_numpy(a) for _, a in images], 32, 0, lambda p, r: {"target": p})
        per_epoch = sum(a.shape[-1] * a.shape[-2] for _, a in images) // (32 * 32)
        for epoch in (1, 2):
            before = len(opened)
            for i in range(per_epoch):
                data[(epoch - 1) * per_epoch + i]
            counts[f"epoch{epoch}"] = len(opened) - before
        before = len(opened)
        load_split_images(spec, "val")
        load_split_images(spec, "test")
        counts["val_and_test"] = len(opened) - before
    return counts


def peak_memory() -> dict[str, float]:
    """Peak RSS (MiB) and seconds of a process loading the mni152 source, cold and warm cache."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "RECON_CACHE_DIR": cache}
        for label in ("cold", "warm"):
            proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], env=env, check=True,
                                  capture_output=True, text=True)
            rss, seconds = map(float, proc.stdout.split()[-2:])
            out[f"{label}_peak_mib"], out[f"{label}_seconds"] = rss, seconds
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="steps of the default-preset run")
    parser.add_argument("--batches", type=int, default=40, help="batches drawn from the DataLoader")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--tasks", nargs="+", default=["mri_superres", "mri_kspace"],
                        help="tasks of the simulation comparison (data.simulate_on cpu vs device)")
    parser.add_argument("--device", default="cpu", help="the device of data.simulate_on=device (cpu, cuda)")
    parser.add_argument("--simulation-only", action="store_true", help="only the simulation comparison")
    args = parser.parse_args()
    if args.simulation_only:
        sims = {"simulation": simulation(args.tasks, args.batches, args.device)}
        print(json.dumps(sims, indent=2))
        print_simulation(sims["simulation"], args.device)
        if args.json:
            args.json.write_text(json.dumps(sims, indent=2) + "\n")
        return
    warmup = args.steps // 2
    result: dict[str, Any] = {"consumption": consumption(args.steps, warmup)}
    result["pipeline"] = {f"workers{w}": throughput(args.batches, w) for w in (0, 2)}
    augmented = ["data.augment_affine=0.5", "data.augment_elastic=0.5"]
    result["pipeline_augmented"] = {f"workers{w}": throughput(args.batches, w, augmented) for w in (0, 2)}
    fastest_consumer = max(result["consumption"].values())
    pipeline = result["pipeline"]["workers0"]["img_per_s"]
    result["ratio"] = pipeline / fastest_consumer
    result["ratio_augmented"] = max(r["img_per_s"] for r in result["pipeline_augmented"].values()) / fastest_consumer
    result["simulation"] = simulation(args.tasks, args.batches, args.device)
    result["file_reads"] = file_reads()
    result["memory"] = peak_memory()
    print(json.dumps(result, indent=2))
    print(f"data pipeline {pipeline:.0f} img/s (0 workers) vs default preset consumption "
          f"{fastest_consumer:.1f} img/s: ratio {result['ratio']:.1f}x (target >= 3x); with affine+elastic "
          f"augmentation (best of 0/2 workers) {result['ratio_augmented']:.1f}x; "
          f"second epoch opened {result['file_reads']['epoch2']} files; "
          f"mni152 peak memory {result['memory']['cold_peak_mib']:.0f} MiB cold / "
          f"{result['memory']['warm_peak_mib']:.0f} MiB warm (target < 2048)")
    print_simulation(result["simulation"], args.device)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
