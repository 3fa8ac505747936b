"""The speed suite: every figure is a ratio of two numbers measured in the same process.

For one task (``mri_superres``, SRResNet, by default) with its default preset and the
adversarial term on from the first step:

1. **trainer overhead**: recon's ``Trainer.train_step`` against :class:`benchmarks.loops.PlainLoop`
   (target <= 1.05x), against MONAI's ``GanTrainer`` (target < 1x) and, for the
   super-resolution tasks, against BasicSR's SRGAN step (:class:`benchmarks.basicsr_loop.BasicSRLoop`,
   target < 1x), interleaved step by step (MONAI's engine drives; after each of its
   iterations one recon step, one plain step and one BasicSR step run, rotating their order,
   then the FLOP reference) so machine noise hits all of them alike. The timed steps form
   ``rounds`` consecutive windows of ``steps`` steps each; every ratio is taken per round (median
   step of one loop over median step of the other in that window) and reported as the median
   over the rounds with its spread (min and max over the rounds, ``spread``; each round's value
   in ``per_round``). Also the **host reads per step** (``syncs_per_step``): the
   device-to-host synchronisations of one ``train_step`` that logs nothing, counted by
   :class:`benchmarks.sync_probe.SyncProbe` (target <= 1).
2. **FLOP efficiency**: FLOPs of one training step counted with
   ``torch.utils.flop_counter.FlopCounterMode`` divided by the round's median step time, against
   the FLOP/s of :class:`benchmarks.flop_reference.ConvReference` (dense 3x3 convolutions at the
   FLOP-weighted widths of the generator's and the discriminator's 3x3 convolutions, the preset's
   batch and patch size, forward and backward) timed once per step inside the same interleaving
   (target >= 50%); median and spread over the rounds, and one profiled step's share of time in
   convolutions (:func:`benchmarks.flop_reference.time_breakdown`).
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


#: the timed loops of :func:`time_loops` (``reference``: the FLOP reference, when given)
LOOPS = ("recon", "plain", "monai", "basicsr", "reference")
#: loops also timed in process CPU time (steadier than wall-clock time on a busy machine)
CPU_LOOPS = ("recon", "plain", "basicsr")
#: reported ratios: name -> (numerator, denominator) of the per-round medians
RATIOS = {"ratio_plain": ("recon_ms", "plain_ms"), "ratio_plain_cpu": ("recon_cpu_ms", "plain_cpu_ms"),
          "ratio_monai": ("recon_ms", "monai_ms"), "ratio_basicsr": ("recon_ms", "basicsr_ms"),
          "ratio_basicsr_cpu": ("recon_cpu_ms", "basicsr_cpu_ms")}


def _ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1e3, 3)


def _median(values: list[float], digits: int = 4) -> float:
    return round(statistics.median(values), digits)


def _per_round(wall: dict[str, list[list[float]]], cpu: dict[str, list[list[float]]]) -> dict[str, list[float]]:
    """Each loop's median step (ms) in each round (``<loop>_ms``, ``<loop>_cpu_ms``), and each
    ratio of :data:`RATIOS` per round; loops without times are left out."""
    out = {f"{name}_ms": [_ms(r) for r in rounds] for name, rounds in wall.items() if all(rounds)}
    out |= {f"{name}_cpu_ms": [_ms(r) for r in rounds] for name, rounds in cpu.items() if all(rounds)}
    for ratio, (num, den) in RATIOS.items():
        if num in out and den in out:
            out[ratio] = [round(n / d, 4) for n, d in zip(out[num], out[den], strict=True)]
    return out


def summarize_rounds(wall: dict[str, list[list[float]]], cpu: dict[str, list[list[float]]]) -> dict[str, Any]:
    """Per-round medians and ratios (``per_round``), their medians over the rounds (``recon_ms``,
    ``ratio_plain`` ...: ``None`` for a loop that did not run) and each ratio's ``spread``
    ``[min, max]`` over the rounds."""
    per_round = _per_round(wall, cpu)
    out: dict[str, Any] = {}
    for name in LOOPS[:4]:
        key = f"{name}_ms"
        out[key] = _median(per_round[key], 3) if key in per_round else None
    for name in CPU_LOOPS:
        key = f"{name}_cpu_ms"
        if key in per_round:
            out[key] = _median(per_round[key], 3)
    for ratio in RATIOS:
        out[ratio] = _median(per_round[ratio]) if ratio in per_round else None
    out["spread"] = {r: [min(per_round[r]), max(per_round[r])] for r in RATIOS if r in per_round}
    out["per_round"] = per_round
    return out


def _engine(trainer: Any, batch: dict[str, Any], iterations: int, with_monai: bool) -> tuple[Any, str]:
    """MONAI's GanTrainer over ``iterations`` steps (or ``None``) and its status."""
    from benchmarks.loops import monai_gan_trainer

    if not with_monai or trainer.discriminator is None:
        return None, "skipped: " + ("not asked for" if not with_monai else "the task has no discriminator")
    try:
        engine, _ = monai_gan_trainer(trainer, batch, iterations)
    except ImportError as exc:
        return None, f"skipped: MONAI's GanTrainer needs pytorch-ignite (pip install pytorch-ignite): {exc}"
    return engine, "ok"


def time_loops(trainer: Any, batch: dict[str, Any], steps: int, warmup: int,
               with_monai: bool = True, reference: Callable[[], Any] | None = None,
               rounds: int = 1) -> dict[str, Any]:
    """Step times (ms) of recon, the plain loop, MONAI and BasicSR's SRGAN step (where it
    applies), interleaved step by step over ``warmup`` + ``rounds`` x ``steps`` steps; per round
    each loop's median and the ratios, then their medians and spreads over the rounds
    (:func:`summarize_rounds`).

    ``reference`` (e.g. the dense convolutions of the FLOP/s comparison) is timed once per
    step in the same interleaving; its per-round medians are ``per_round["reference_ms"]``."""
    from benchmarks.basicsr_loop import BasicSRLoop, basicsr_status
    from benchmarks.loops import PlainLoop, attach_timer

    device = trainer.device
    plain = PlainLoop(trainer)
    basicsr_state = basicsr_status(trainer)
    basicsr = BasicSRLoop(trainer) if basicsr_state == "ok" else None
    wall: dict[str, list[list[float]]] = {name: [[] for _ in range(rounds)] for name in LOOPS}
    cpu: dict[str, list[list[float]]] = {name: [[] for _ in range(rounds)] for name in CPU_LOOPS}
    everything: dict[str, list[float]] = {"recon": [], "plain": []}

    def timed(name: str, fn: Callable[[], Any], i: int) -> None:
        _sync(device)
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        _sync(device)
        if i >= warmup:
            k = (i - warmup) // steps
            wall[name][k].append(time.perf_counter() - start)
            if name in cpu:
                cpu[name][k].append(time.process_time() - start_cpu)
            if name in everything:
                everything[name].append(wall[name][k][-1])

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

    engine, monai_status = _engine(trainer, batch, warmup + rounds * steps, with_monai)
    if engine is not None:
        all_monai: list[float] = []
        attach_timer(engine, all_monai, pair, device)
        engine.run()
        wall["monai"] = [all_monai[warmup + k * steps: warmup + (k + 1) * steps] for k in range(rounds)]
    else:
        for i in range(warmup + rounds * steps):
            pair(i)
    out: dict[str, Any] = {"rounds": rounds, "steps": steps, "warmup": warmup, "monai": monai_status,
                           "basicsr": basicsr_state, **summarize_rounds(wall, cpu)}
    out["recon_mean_ms"] = round(statistics.fmean(everything["recon"]) * 1e3, 3)
    out["plain_mean_ms"] = round(statistics.fmean(everything["plain"]) * 1e3, 3)
    out["ratio_plain_mean"] = round(out["recon_mean_ms"] / out["plain_mean_ms"], 4)
    out["target_plain"], out["target_monai"], out["target_basicsr"] = TARGET_PLAIN, TARGET_MONAI, TARGET_BASICSR
    return out


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


def device_path_rate(trainer: Any, batches: int, preset: str) -> dict[str, Any]:
    """Samples/s of the ``data.simulate_on=device`` path (targets and operator parameters from the
    DataLoader, the batch measured on the trainer's device) for ``preset`` of a task that supports
    it: ``{"device_path_samples_per_s": x}``, or the one-line reason it was not measured."""
    from recon.errors import ConfigError

    from benchmarks.bench_data import simulation_throughput

    try:
        rate = simulation_throughput(trainer.task.name, batches, trainer.cfg.trainer.num_workers, "device",
                                     str(trainer.device), preset)
    except ConfigError as err:  # the task measures its samples on the CPU only
        return {"device_path_reason": str(err).splitlines()[0][:200]}
    return {"device_path_samples_per_s": round(rate["img_per_s"], 2)}


def flops_record(counted: dict[str, Any], timing: dict[str, Any], ref: Any) -> dict[str, Any]:
    """The FLOP/s figure: per round, the step's FLOP/s (FLOPs / the round's median recon step)
    over the reference's (its FLOPs / its median in that round); median and spread over rounds."""
    recon, reference = timing["per_round"]["recon_ms"], timing["per_round"]["reference_ms"]
    per_round = [round((counted["total"] / r) / (ref.flops / f), 4) for r, f in zip(recon, reference, strict=True)]
    achieved = counted["total"] / (timing["recon_ms"] / 1e3) / 1e9
    return {"step_gflop": round(counted["total"] / 1e9, 4), "conv_gflop": round(counted["conv"] / 1e9, 4),
            "conv_flop_share": round(counted["conv"] / counted["total"], 4), "widths": counted["widths"],
            "achieved_gflops_per_s": round(achieved, 3),
            "reference": ref.summary(statistics.median(reference)),
            "efficiency": _median(per_round), "spread": [min(per_round), max(per_round)], "per_round": per_round,
            "target": TARGET_FLOPS}


def _breakdown(trainer: Any, batch: dict[str, Any], counted: dict[str, Any], reference_gflops: float) -> dict:
    """:func:`benchmarks.flop_reference.time_breakdown` with the convolutions' own FLOP/s and
    their efficiency against the reference."""
    from benchmarks.flop_reference import time_breakdown

    out = time_breakdown(trainer, batch)
    conv_gflops = counted["conv"] / (out["conv_ms"] / 1e3) / 1e9 if out["conv_ms"] else None
    out["conv_gflops_per_s"] = round(conv_gflops, 3) if conv_gflops else None
    out["conv_efficiency"] = round(conv_gflops / reference_gflops, 4) if conv_gflops else None
    return out


def measure(task_name: str, preset: str = "default", *, steps: int = 10, warmup: int = 5, rounds: int = 5,
            overrides: list[str] | None = None, device: str = "cpu", with_monai: bool = True,
            data_batches: int = 30) -> dict[str, Any]:
    """Every speed ratio of one task, measured in this process: ``rounds`` interleaved rounds of
    ``steps`` timed steps per loop, after ``warmup`` steps."""
    from benchmarks.flop_reference import ConvReference, count_step_flops
    from benchmarks.sync_probe import step_syncs

    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(task_name, preset, list(overrides or []), device, Path(tmp))
        cfg = trainer.cfg
        batch = trainer.to_device(next(trainer.batch_iterator()))
        record: dict[str, Any] = {
            "task": task_name, "preset": preset, "status": "ok", "reason": None, "device": str(trainer.device),
            "batch_size": cfg.trainer.batch_size, "patch_size": getattr(cfg.data, "patch_size", None),
            "threads": torch.get_num_threads(),
        }
        counted = count_step_flops(trainer, batch)  # also the networks' widths, for the reference
        size = int(batch["target"].shape[-1]) if "target" in batch else int(record["patch_size"] or 64)
        widths = sorted(set(counted["widths"].values())) or [64]
        ref = ConvReference(cfg.trainer.batch_size, size, widths, trainer.device)
        ref()  # warm-up (oneDNN picks its kernels)
        timing = time_loops(trainer, batch, steps, warmup, with_monai, reference=ref, rounds=rounds)
        counts = step_syncs(trainer, batch, steps=3, first_step=1)
        timing.update(syncs_per_step=max(counts), target_syncs=TARGET_SYNCS)
        record["trainer"] = timing
        record["flops"] = flops_record(counted, timing, ref)
        record["flops"]["breakdown"] = _breakdown(trainer, batch, counted, record["flops"]["reference"]["gflops_per_s"])
        data = data_rate(trainer, data_batches, preset)
        consumed = cfg.trainer.batch_size / (timing["recon_ms"] / 1e3)
        data.update(consumed_samples_per_s=round(consumed, 2),
                    ratio=round(data["delivered_samples_per_s"] / consumed, 3), target=TARGET_DATA)
        data.update(device_path_rate(trainer, data_batches, preset))
        record["data"] = data
    return record


def speed_settings(smoke: bool, steps: int | None = None, rounds: int | None = None) -> dict[str, int]:
    """``measure``'s ``steps`` (per round; default 10, or 2 under ``smoke``), ``rounds`` (default
    5), ``warmup`` and ``data_batches``."""
    steps = steps or (2 if smoke else 10)
    rounds = rounds or 5
    return {"steps": steps, "rounds": rounds, "warmup": 1 if smoke else 5, "data_batches": max(3, min(30, steps * 3))}


def run_speed(tasks: list[str], *, smoke: bool, device: str, steps: int | None = None, rounds: int | None = None,
              log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """:func:`measure` for each task (:func:`speed_settings`); a failure is recorded, never raised."""
    records = []
    kwargs = speed_settings(smoke, steps, rounds)
    for name in tasks:
        preset = "smoke" if smoke else "default"
        log(f"[speed] {name}: trainer vs plain loop vs MONAI vs BasicSR, syncs/step, FLOP/s, data pipeline "
            f"({preset} preset, {kwargs['rounds']} rounds of {kwargs['steps']} steps)")
        try:
            records.append(measure(name, preset, device=device, **kwargs))
        except Exception as exc:  # noqa: BLE001 - a task that cannot be timed is reported
            records.append({"task": name, "preset": preset, "status": "failed",
                            "reason": f"{type(exc).__name__}: {exc}"})
    return records


def main() -> None:
    """``python -m benchmarks.speed [--task T] [--preset P] [--steps N] [--rounds R]``: :func:`measure` as JSON."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description="the speed suite's measurements of one task, as JSON")
    parser.add_argument("--task", default="mri_superres")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per loop in each round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians and spreads over them)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-monai", action="store_true", help="leave MONAI's GanTrainer out")
    args = parser.parse_args()
    print(json.dumps(measure(args.task, args.preset, steps=args.steps, warmup=args.warmup, rounds=args.rounds,
                             device=args.device, with_monai=not args.no_monai,
                             data_batches=min(30, args.steps * 3)), indent=2))


if __name__ == "__main__":
    main()
