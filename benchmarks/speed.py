"""The speed suite: every figure is a ratio of two numbers measured in the same process.

For one task (``mri_superres``, SRResNet, by default) with its default preset and the
adversarial term on from the first step:

1. **trainer overhead**: recon's ``Trainer.train_step`` against :class:`benchmarks.loops.PlainLoop`
   (target <= 1.05x), against MONAI's ``GanTrainer`` (target < 1x) and, for the
   super-resolution tasks, against BasicSR's SRGAN step (:class:`benchmarks.basicsr_loop.BasicSRLoop`,
   target < 1x), interleaved step by step (MONAI's engine drives; after each of its
   iterations one recon step, one plain step and one BasicSR step run, rotating their order)
   so machine noise hits all of them alike. Medians. Also the **host reads per step**
   (``syncs_per_step``): the device-to-host synchronisations of one ``train_step`` that logs
   nothing, counted by :class:`benchmarks.sync_probe.SyncProbe` (target <= 1).
2. **FLOP efficiency**: FLOPs of one training step counted with
   ``torch.utils.flop_counter.FlopCounterMode`` divided by the median step time, against the
   FLOP/s of a dense channels_last 3x3 convolution (64 -> 64 channels, the preset's batch and
   patch size) timed once per step inside the same interleaving (target >= 50%).
3. **data pipeline**: samples/s the training DataLoader delivers (``trainer.num_workers`` as
   configured; ``benchmarks.bench_data.throughput`` for mri_superres's default preset) against
   the samples/s a training step consumes (target >= 3x).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

TARGET_PLAIN = 1.05
TARGET_MONAI = 1.0
TARGET_FLOPS = 0.5
TARGET_DATA = 3.0
TARGET_BASICSR = 1.0
TARGET_SYNCS = 1


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build_trainer(task_name: str, preset: str, overrides: list[str], device: str, run_dir: Path) -> Any:
    """A recon Trainer with the adversarial game on from step 0 (so every loop does D and G)."""
    from recon.config import build_config
    from recon.plugins import get_task
    from recon.train.trainer import Trainer

    task = get_task(task_name)
    sets = ["trainer.progress=false", "trainer.d_warmup_steps=0", *overrides]
    cfg = build_config(task, preset, overrides=sets, device=device)
    return Trainer(task, cfg, run_dir)


def _ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1e3, 3)


def time_loops(trainer: Any, batch: dict[str, Any], steps: int, warmup: int,
               with_monai: bool = True, reference: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Median step times (ms) of recon, the plain loop, MONAI and BasicSR's SRGAN step (where
    it applies), interleaved; their ratios.

    ``reference`` (e.g. the dense convolution of the FLOP/s comparison) is timed once per
    step in the same interleaving; its median is ``reference_ms``."""
    from benchmarks.basicsr_loop import BasicSRLoop, basicsr_status
    from benchmarks.loops import PlainLoop, attach_timer, monai_gan_trainer

    device = trainer.device
    plain = PlainLoop(trainer)
    basicsr_state = basicsr_status(trainer)
    basicsr = BasicSRLoop(trainer) if basicsr_state == "ok" else None
    times: dict[str, list[float]] = {"recon": [], "plain": [], "monai": [], "basicsr": [], "reference": []}
    cpu: dict[str, list[float]] = {"recon": [], "plain": [], "basicsr": []}  # process CPU time: steadier when busy

    def timed(name: str, fn: Callable[[], Any], i: int) -> None:
        _sync(device)
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        _sync(device)
        if i >= warmup:
            times[name].append(time.perf_counter() - start)
            if name in cpu:
                cpu[name].append(time.process_time() - start_cpu)

    def recon_step(i: int) -> None:
        trainer.step = i  # the same lazy-regularization steps as the other loops
        trainer.train_step([batch])

    def pair(i: int) -> None:
        order: list[tuple[str, Callable[[], Any]]] = [("recon", lambda: recon_step(i)),
                                                      ("plain", lambda: plain.step(batch, i))]
        if basicsr is not None:
            order.append(("basicsr", lambda: basicsr.step(batch, i)))
        shift = i % len(order)  # each loop runs first, second, ... in turn
        for name, fn in (order[shift:] + order[:shift])[::(1 if i % 2 == 0 else -1)]:
            timed(name, fn, i)
        if reference is not None:
            timed("reference", reference, i)

    monai_status = "ok"
    engine = None
    if with_monai and trainer.discriminator is not None:
        try:
            engine, _ = monai_gan_trainer(trainer, batch, warmup + steps)
        except ImportError as exc:
            monai_status = f"skipped: MONAI's GanTrainer needs pytorch-ignite (pip install pytorch-ignite): {exc}"
    else:
        monai_status = "skipped: " + ("not asked for" if not with_monai else "the task has no discriminator")
    if engine is not None:
        all_monai: list[float] = []
        attach_timer(engine, all_monai, pair, device)
        engine.run()
        times["monai"] = all_monai[warmup:]
    else:
        for i in range(warmup + steps):
            pair(i)
    out: dict[str, Any] = {
        "steps": steps, "warmup": warmup,
        "recon_ms": _ms(times["recon"]), "plain_ms": _ms(times["plain"]),
        "monai_ms": _ms(times["monai"]) if times["monai"] else None, "monai": monai_status,
        "basicsr_ms": _ms(times["basicsr"]) if times["basicsr"] else None, "basicsr": basicsr_state,
        "recon_mean_ms": round(statistics.fmean(times["recon"]) * 1e3, 3),
        "plain_mean_ms": round(statistics.fmean(times["plain"]) * 1e3, 3),
    }
    out["recon_cpu_ms"], out["plain_cpu_ms"] = _ms(cpu["recon"]), _ms(cpu["plain"])
    out["ratio_plain_cpu"] = round(out["recon_cpu_ms"] / out["plain_cpu_ms"], 4)
    if times["reference"]:
        out["reference_ms"] = _ms(times["reference"])
    out["ratio_plain"] = round(out["recon_ms"] / out["plain_ms"], 4)
    out["ratio_plain_mean"] = round(out["recon_mean_ms"] / out["plain_mean_ms"], 4)
    out["ratio_monai"] = round(out["recon_ms"] / out["monai_ms"], 4) if out["monai_ms"] else None
    out["ratio_basicsr"] = round(out["recon_ms"] / out["basicsr_ms"], 4) if out["basicsr_ms"] else None
    if cpu["basicsr"]:
        out["basicsr_cpu_ms"] = _ms(cpu["basicsr"])
        out["ratio_basicsr_cpu"] = round(out["recon_cpu_ms"] / out["basicsr_cpu_ms"], 4)
    out["target_plain"], out["target_monai"], out["target_basicsr"] = TARGET_PLAIN, TARGET_MONAI, TARGET_BASICSR
    return out


def count_step_flops(trainer: Any, batch: dict[str, Any]) -> int:
    """FLOPs of one recon training step (forward, backward, R1 double-backward if due)."""
    from torch.utils.flop_counter import FlopCounterMode

    reg = max(1, trainer.cfg.loss.reg_interval)
    trainer.step = 1 if reg > 1 else 0  # a step without the lazy regularizer, like the median step
    with FlopCounterMode(display=False) as counter:
        trainer.train_step([batch])
    return int(counter.get_total_flops())


class ConvReference:
    """A dense 3x3 convolution, channels_last, fp32, forward: the machine's attainable FLOP/s.

    ``channels`` -> ``channels`` on ``(batch, channels, size, size)``; call it to run once.
    """

    def __init__(self, batch: int, size: int, device: torch.device, channels: int = 64) -> None:
        self.conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False).to(
            device, memory_format=torch.channels_last).requires_grad_(False)
        self.x = torch.randn(batch, channels, size, size, device=device).contiguous(memory_format=torch.channels_last)
        self.flops = 2 * batch * channels * channels * 9 * size * size
        self.shape = [batch, channels, size, size]

    @torch.no_grad()
    def __call__(self) -> torch.Tensor:
        return self.conv(self.x)

    def summary(self, ms: float) -> dict[str, Any]:
        return {"shape": self.shape, "kernel": 3, "gflop": round(self.flops / 1e9, 4), "ms": round(ms, 3),
                "gflops_per_s": round(self.flops / (ms / 1e3) / 1e9, 3)}


def data_rate(trainer: Any, batches: int, preset: str) -> dict[str, Any]:
    """Samples/s the training DataLoader delivers with nothing else running.

    For ``mri_superres`` with its default preset this is ``benchmarks.bench_data.throughput``
    (the data pipeline's own benchmark); for other tasks and presets the same measurement on
    this trainer's DataLoader (``StepBatchSampler`` + ``DataLoader``, ``trainer.num_workers``).
    """
    t = trainer.cfg.trainer
    if trainer.task.name == "mri_superres" and preset == "default":
        try:
            from benchmarks.bench_data import throughput
        except ImportError:
            throughput = None
        if throughput is not None:
            result = throughput(batches, t.num_workers)
            return {"delivered_samples_per_s": round(result["img_per_s"], 2), "num_workers": t.num_workers,
                    "source": "benchmarks.bench_data.throughput", "batches": batches}
    loader = trainer.batch_iterator()
    for _ in range(2):  # worker start-up and first-touch of the cached images
        next(loader)
    start = time.perf_counter()
    for _ in range(batches):
        next(loader)
    seconds = time.perf_counter() - start
    return {"delivered_samples_per_s": round(batches * t.batch_size / seconds, 2), "num_workers": t.num_workers,
            "source": "the trainer's DataLoader (train split)", "batches": batches}


def measure(task_name: str, preset: str = "default", *, steps: int = 30, warmup: int = 5,
            overrides: list[str] | None = None, device: str = "cpu", with_monai: bool = True,
            data_batches: int = 30) -> dict[str, Any]:
    """Every speed ratio of one task, measured in this process."""
    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(task_name, preset, list(overrides or []), device, Path(tmp))
        cfg = trainer.cfg
        batch = trainer.to_device(next(trainer.batch_iterator()))
        record: dict[str, Any] = {
            "task": task_name, "preset": preset, "status": "ok", "reason": None, "device": str(trainer.device),
            "batch_size": cfg.trainer.batch_size, "patch_size": getattr(cfg.data, "patch_size", None),
            "threads": torch.get_num_threads(),
        }
        size = int(batch["target"].shape[-1]) if "target" in batch else int(record["patch_size"] or 64)
        ref = ConvReference(cfg.trainer.batch_size, size, trainer.device)
        for _ in range(2):
            ref()  # warm-up (oneDNN picks its kernel)
        record["trainer"] = time_loops(trainer, batch, steps, warmup, with_monai, reference=ref)
        from benchmarks.sync_probe import step_syncs

        counts = step_syncs(trainer, batch, steps=3, first_step=1)
        record["trainer"]["syncs_per_step"] = max(counts)
        record["trainer"]["target_syncs"] = TARGET_SYNCS
        step_s = record["trainer"]["recon_ms"] / 1e3
        flops = count_step_flops(trainer, batch)
        achieved = flops / step_s / 1e9
        summary = ref.summary(record["trainer"].pop("reference_ms"))
        record["flops"] = {
            "step_gflop": round(flops / 1e9, 4), "achieved_gflops_per_s": round(achieved, 3),
            "reference": summary, "efficiency": round(achieved / summary["gflops_per_s"], 4), "target": TARGET_FLOPS,
        }
        data = data_rate(trainer, data_batches, preset)
        consumed = cfg.trainer.batch_size / step_s
        data.update(consumed_samples_per_s=round(consumed, 2),
                    ratio=round(data["delivered_samples_per_s"] / consumed, 3), target=TARGET_DATA)
        record["data"] = data
    return record


def run_speed(tasks: list[str], *, smoke: bool, device: str, steps: int | None = None,
              log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """:func:`measure` for each task; a failure is recorded, never raised.

    ``steps`` (timed steps per loop) defaults to 30, or 3 under ``smoke``."""
    records = []
    steps = steps or (3 if smoke else 30)
    kwargs = dict(steps=steps, warmup=max(1, min(5, steps // 5)), data_batches=max(3, steps))
    for name in tasks:
        preset = "smoke" if smoke else "default"
        log(f"[speed] {name}: trainer vs plain loop vs MONAI vs BasicSR, syncs/step, FLOP/s, data pipeline "
            f"({preset} preset)")
        try:
            records.append(measure(name, preset, device=device, **kwargs))
        except Exception as exc:  # noqa: BLE001 - a task that cannot be timed is reported
            records.append({"task": name, "preset": preset, "status": "failed",
                            "reason": f"{type(exc).__name__}: {exc}"})
    return records


def main() -> None:
    """``python -m benchmarks.speed [--task T] [--preset P] [--steps N]``: :func:`measure` as JSON."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description="the speed suite's measurements of one task, as JSON")
    parser.add_argument("--task", default="mri_superres")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-monai", action="store_true", help="leave MONAI's GanTrainer out")
    args = parser.parse_args()
    print(json.dumps(measure(args.task, args.preset, steps=args.steps, warmup=args.warmup, device=args.device,
                             with_monai=not args.no_monai, data_batches=args.steps), indent=2))


if __name__ == "__main__":
    main()
