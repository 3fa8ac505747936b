"""torch.distributed integration (torchrun): process group, DDP wrapping, log reduction."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, ContextManager

import torch
from torch import nn

from recon.train.runtime import DistInfo


def init_process_group(dist: DistInfo, device: torch.device) -> None:
    """Join torchrun's process group (NCCL on CUDA, gloo on CPU) once."""
    import torch.distributed as tdist

    if dist.enabled and not tdist.is_initialized():
        tdist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")


def _no_sync(module: nn.Module, last: bool) -> ContextManager:
    if not last and hasattr(module, "no_sync"):
        return module.no_sync()
    return contextlib.nullcontext()


def maybe_compile(module: nn.Module, enabled: bool, name: str) -> nn.Module:
    """``torch.compile`` the module when asked; fall back (with a message) where it fails."""
    if not enabled:
        return module
    try:
        return torch.compile(module)
    except Exception as exc:  # noqa: BLE001
        import sys

        print(f"recon: torch.compile of the {name} failed ({type(exc).__name__}: {exc}); running eagerly",
              file=sys.stderr)
        return module


def wrap_for_training(generator: nn.Module, discriminator: nn.Module | None, cfg: Any,
                      dist: DistInfo, device: torch.device
                      ) -> tuple[nn.Module, nn.Module | None, Callable[[nn.Module, bool], ContextManager]]:
    """The modules the phases train (compiled and/or DDP-wrapped) plus a ``no_sync`` helper."""
    gen = maybe_compile(generator, cfg.trainer.compile, "generator")
    disc = maybe_compile(discriminator, cfg.trainer.compile, "discriminator") if discriminator is not None else None
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        init_process_group(dist, device)
        ids = [device.index] if device.type == "cuda" else None
        gen = DDP(gen, device_ids=ids, broadcast_buffers=False)
        if disc is not None:
            disc = DDP(disc, device_ids=ids, broadcast_buffers=False)
    return gen, disc, _no_sync


def reduce_logs(logs: dict[str, float], dist: DistInfo, device: torch.device) -> dict[str, float]:
    """Average logged scalars over ranks (img/s is summed: it is a throughput)."""
    if not dist.enabled:
        return logs
    import torch.distributed as tdist

    keys = sorted(logs)
    values = torch.tensor([float(logs[k]) for k in keys], device=device, dtype=torch.float64)
    tdist.all_reduce(values)
    return {k: (v if k == "img_per_s" else v / dist.world_size) for k, v in zip(keys, values.tolist())}
