"""The FLOP/s figure of the speed suite: a training step's FLOPs, a width-matched dense
convolution reference, and where the step's time goes.

- :func:`count_step_flops`: FLOPs of one ``Trainer.train_step`` (``FlopCounterMode``), the share
  in convolutions, and the channel width of each network's 3x3 convolutions, weighted by FLOPs
  (:func:`network_widths`).
- :class:`ConvReference`: dense 3x3 convolutions ``C -> C`` at those widths, at the preset's batch
  and patch size, forward **and** backward (input and weight gradients), channels_last fp32: the
  FLOP/s the machine attains on the step's dominant operation at the step's widths.
- :func:`time_breakdown`: one profiled step (``torch.profiler``): the share of the step's time
  spent in convolutions and the largest other operations.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch
from torch import nn

#: op names (FlopCounterMode: aten.convolution ...; profiler: aten::mkldnn_convolution ...) of convolutions
CONV_OPS = ("conv",)


def _is_conv(name: str) -> bool:
    return any(key in name for key in CONV_OPS)


def _weighted_median(weights: dict[int, float]) -> int:
    """The key at which the cumulative weight (keys ascending) reaches half the total."""
    total, running = sum(weights.values()), 0.0
    for key in sorted(weights):
        running += weights[key]
        if running >= total / 2:
            return key
    raise ValueError("no weights")


def _conv_hooks(networks: dict[str, nn.Module | None], flops: dict[str, dict[int, float]]) -> list[Any]:
    """Forward hooks adding each 3x3 convolution's FLOPs to ``flops[network][in_channels]``."""

    def hook(name: str) -> Any:
        def record(module: nn.Conv2d, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            macs = output.numel() * module.in_channels // module.groups * 9
            flops[name][module.in_channels] += 2.0 * macs
        return record

    handles = []
    for name, net in networks.items():
        for module in (net.modules() if net is not None else []):
            if isinstance(module, nn.Conv2d) and tuple(module.kernel_size) == (3, 3):
                handles.append(module.register_forward_hook(hook(name)))
    return handles


def network_widths(flops: dict[str, dict[int, float]]) -> dict[str, int]:
    """Per network, the FLOP-weighted median input width of its 3x3 convolutions."""
    return {name: _weighted_median(by_width) for name, by_width in flops.items() if by_width}


def count_step_flops(trainer: Any, batch: dict[str, Any]) -> dict[str, Any]:
    """One recon training step without the lazy regularizer (like the median step), counted:
    ``{"total", "conv", "widths": {"generator": C, "discriminator": C}}``."""
    from torch.utils.flop_counter import FlopCounterMode

    reg = max(1, trainer.cfg.loss.reg_interval)
    trainer.step = 1 if reg > 1 else 0
    by_width: dict[str, dict[int, float]] = {"generator": defaultdict(float), "discriminator": defaultdict(float)}
    handles = _conv_hooks({"generator": trainer.generator, "discriminator": trainer.discriminator}, by_width)
    try:
        with FlopCounterMode(display=False) as counter:
            trainer.train_step([batch])
    finally:
        for handle in handles:
            handle.remove()
    per_op = counter.get_flop_counts().get("Global", {})
    conv = sum(count for op, count in per_op.items() if _is_conv(str(op)))
    return {"total": int(counter.get_total_flops()), "conv": int(conv), "widths": network_widths(by_width)}


class ConvReference:
    """Dense 3x3 convolutions ``C -> C`` (stride 1, padding 1, no bias), channels_last fp32, one
    per width, on ``(batch, C, size, size)``; one call runs each forward and backward (gradients
    of the input and the weight), as a training step does. ``flops`` is counted by
    ``FlopCounterMode`` (backward = twice the forward)."""

    def __init__(self, batch: int, size: int, widths: list[int], device: torch.device) -> None:
        self.shapes = [[batch, c, size, size] for c in widths]
        self.parts = []
        for c in widths:
            conv = nn.Conv2d(c, c, 3, padding=1, bias=False).to(device, memory_format=torch.channels_last)
            x = torch.randn(batch, c, size, size, device=device).contiguous(memory_format=torch.channels_last)
            self.parts.append((conv, x.requires_grad_(True), torch.randn_like(x)))
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter:
            self()
        self.flops = int(counter.get_total_flops())

    def __call__(self) -> None:
        for conv, x, grad in self.parts:
            conv.weight.grad, x.grad = None, None
            conv(x).backward(grad)

    def summary(self, ms: float) -> dict[str, Any]:
        """The reference's record for a median time of ``ms`` per call."""
        return {"shapes": self.shapes, "kernel": 3, "passes": "forward+backward", "gflop": round(self.flops / 1e9, 4),
                "ms": round(ms, 3), "gflops_per_s": round(self.flops / (ms / 1e3) / 1e9, 3)}


def _self_time(event: Any, cuda: bool) -> float:
    if cuda:
        return float(getattr(event, "self_device_time_total", getattr(event, "self_cuda_time_total", 0.0)))
    return float(event.self_cpu_time_total)


def time_breakdown(trainer: Any, batch: dict[str, Any], top: int = 5) -> dict[str, Any]:
    """One profiled step (as :func:`count_step_flops`'s): its wall time, the self time of its
    convolution operations (``conv_ms``, and as a share of the wall time), of all operations, and
    the ``top`` largest other operations (name, share of the wall time). The profiler's own
    overhead is in ``profiled_ms``."""
    import time

    from torch.profiler import ProfilerActivity, profile

    cuda = trainer.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    reg = max(1, trainer.cfg.loss.reg_interval)
    trainer.step = 1 if reg > 1 else 0
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        trainer.train_step([batch])
        if cuda:
            torch.cuda.synchronize(trainer.device)
        wall_us = (time.perf_counter() - start) * 1e6
    times = {e.key: _self_time(e, cuda) for e in prof.key_averages()}
    conv = sum(t for name, t in times.items() if _is_conv(name))
    others = sorted(((name, t) for name, t in times.items() if not _is_conv(name)), key=lambda nt: -nt[1])
    return {"profiled_ms": round(wall_us / 1e3, 3), "conv_ms": round(conv / 1e3, 3),
            "conv_time_share": round(conv / wall_us, 4), "op_time_share": round(sum(times.values()) / wall_us, 4),
            "top_other_ops": [[name, round(t / wall_us, 4)] for name, t in others[:top]]}


def conv_shapes(trainer: Any, batch: dict[str, Any], steps: int = 3, top: int = 12) -> list[dict[str, Any]]:
    """The ``top`` convolution operations by self time over ``steps`` profiled steps, grouped by
    input shapes: ``{"op", "input_shapes", "ms_per_step", "calls_per_step"}``."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            trainer.step = 1 if max(1, trainer.cfg.loss.reg_interval) > 1 else 0
            trainer.train_step([batch])
    events = [e for e in prof.key_averages(group_by_input_shape=True) if _is_conv(e.key)]
    events.sort(key=lambda e: -e.self_cpu_time_total)
    return [{"op": e.key, "input_shapes": [s for s in e.input_shapes if s][:3],
             "ms_per_step": round(e.self_cpu_time_total / steps / 1e3, 2), "calls_per_step": e.count // steps}
            for e in events[:top]]


def main() -> None:
    """``python -m benchmarks.flop_reference [--task T] [--preset P]``: the step's FLOPs and widths,
    the width-matched reference's FLOP/s, one profiled step's time breakdown and the convolutions
    that take the most time (by input shape), as JSON."""
    import argparse
    import json
    import statistics
    import tempfile
    import time
    from pathlib import Path

    from benchmarks.speed import build_trainer

    parser = argparse.ArgumentParser(description="where a training step's FLOP/s go, as JSON")
    parser.add_argument("--task", default="mri_superres")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(args.task, args.preset, [], args.device, Path(tmp))
        batch = trainer.to_device(next(trainer.batch_iterator()))
        counted = count_step_flops(trainer, batch)
        ref = ConvReference(trainer.cfg.trainer.batch_size, int(batch["target"].shape[-1]),
                            sorted(set(counted["widths"].values())), trainer.device)
        times = []
        for _ in range(6):
            start = time.perf_counter()
            ref()
            times.append(time.perf_counter() - start)
        out = {"step": counted, "reference": ref.summary(statistics.median(times[1:]) * 1e3),
               "breakdown": time_breakdown(trainer, batch), "convolutions": conv_shapes(trainer, batch)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
