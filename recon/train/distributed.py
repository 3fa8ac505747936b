"""torch.distributed integration (torchrun): process group, DDP wrapping, reductions, sharding.

torchrun describes the process layout through ``WORLD_SIZE``/``RANK``/``LOCAL_RANK``
(:class:`recon.train.runtime.DistInfo`); with ``WORLD_SIZE > 1`` every process joins one
process group (NCCL on CUDA, gloo on CPU) and trains the same networks on its slice of the
global batch (:mod:`recon.train.sampler`).

Wrapping (:func:`wrap_for_training`): G and D are each wrapped in
``DistributedDataParallel`` with ``find_unused_parameters=False``; the phases fold lazy
regularization (R1 / gradient penalty / path length) into the phase's single backward pass,
so each network's gradients are all-reduced exactly once per optimizer step. The G phase
runs the *bare* D with ``requires_grad`` off, so no DDP hook of D fires there. R1 takes
``torch.autograd.grad(..., inputs=images, create_graph=True)`` through the DDP-wrapped D:
that call only reaches the image, never the parameters' gradient accumulators, so DDP's
hooks fire once, in the phase's ``backward()``. Micro-batches but the last run under
``no_sync`` (gradient accumulation).

BatchNorm: on CUDA, BatchNorm layers become ``SyncBatchNorm`` (statistics over the global
batch, as in a 1-GPU run) in every network that is never differentiated twice; a network
with R1/GP (D) or path length (G) keeps per-process BatchNorm because SyncBatchNorm has no
double backward. gloo has no SyncBatchNorm: CPU runs keep per-process BatchNorm. Buffers
are not broadcast on every forward; evaluation broadcasts rank 0's buffers first
(:func:`broadcast_buffers`), and checkpoints hold rank 0's.

Evaluation (:mod:`recon.evaluation`) is sharded by :mod:`recon.shards`; under NCCL its
Python objects travel over a gloo group (host memory, not GPU memory) made here.
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import sys
from dataclasses import dataclass
from typing import Any, Callable, ContextManager

import torch
from torch import nn

from recon.errors import UsageError
from recon.shards import set_object_group
from recon.train.compile import maybe_compile
from recon.train.runtime import DistInfo


def _tdist() -> Any:
    import torch.distributed as tdist

    return tdist


def is_initialized() -> bool:
    tdist = _tdist()
    return tdist.is_available() and tdist.is_initialized()


def init_process_group(dist: DistInfo, device: torch.device) -> None:
    """Join torchrun's process group (NCCL on CUDA, gloo on CPU) once; no-op for 1 process."""
    if not dist.enabled or is_initialized():
        return
    tdist = _tdist()
    if not tdist.is_available():
        raise UsageError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed")
    backend = "nccl" if device.type == "cuda" and tdist.is_nccl_available() else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    kwargs: dict[str, Any] = {}
    if device.type == "cuda" and "device_id" in inspect.signature(tdist.init_process_group).parameters:
        kwargs["device_id"] = device  # NCCL communicators bound to this GPU from the start
    try:
        tdist.init_process_group(backend=backend, **kwargs)
    except ValueError as exc:  # env:// rendezvous without MASTER_ADDR etc.: not started by torchrun
        raise UsageError(f"WORLD_SIZE={dist.world_size} but the process group cannot start "
                         f"({str(exc).splitlines()[0]}); launch with torchrun") from None
    if backend != "gloo":  # Python objects (evaluation shards) travel through host memory
        set_object_group(tdist.new_group(backend="gloo"))
    atexit.register(_destroy)


def _destroy() -> None:
    """At exit: wait for every rank, then tear the process group down. Without the barrier a rank
    that finishes first closes its connections while a peer's gloo threads still read them, and
    the peer can abort ("terminate called without an active exception")."""
    if is_initialized():
        tdist = _tdist()
        try:
            tdist.barrier()
        except Exception:  # noqa: BLE001 - a peer already gone: tear down regardless
            pass
        tdist.destroy_process_group()
    set_object_group(None)


def _no_sync(module: nn.Module, last: bool) -> ContextManager:
    no_sync: Callable[[], ContextManager] | None = getattr(module, "no_sync", None)  # DDP's
    if not last and no_sync is not None:
        return no_sync()
    return contextlib.nullcontext()


def has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def _sync_bn(module: nn.Module, name: str, differentiated_twice: bool, dist: DistInfo,
             device: torch.device) -> nn.Module:
    if not dist.enabled or device.type != "cuda" or not has_batchnorm(module):
        return module
    if differentiated_twice:
        if dist.is_main:
            print(f"recon: the {name} keeps per-process BatchNorm statistics (its R1/GP/path-length "
                  "penalty needs a double backward, which SyncBatchNorm lacks)", file=sys.stderr)
        return module
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


def sync_batchnorm(generator: nn.Module, discriminator: nn.Module | None, cfg: Any, g_regularized: bool,
                   dist: DistInfo, device: torch.device) -> tuple[nn.Module, nn.Module | None]:
    """G and D with ``SyncBatchNorm`` where that is possible (see the module docstring).

    ``g_regularized``: G has a lazy regularizer (path length) that differentiates it twice;
    D is differentiated twice when R1 or the selected loss's gradient penalty (WGAN-GP) is on.
    """
    from recon.losses import adversarial_loss

    generator = _sync_bn(generator, "generator", g_regularized, dist, device)
    if discriminator is not None:
        loss = cfg.loss
        penalty = loss.r1_gamma > 0 or (adversarial_loss(loss.gan_type).gradient_penalty and loss.gp_weight > 0)
        discriminator = _sync_bn(discriminator, "discriminator", penalty, dist, device)
    return generator, discriminator


def _ddp(module: nn.Module, device: torch.device) -> nn.Module:
    from torch.nn.parallel import DistributedDataParallel as DDP

    kwargs: dict[str, Any] = {"device_ids": [device.index] if device.type == "cuda" else None,
                              "find_unused_parameters": False}
    # No buffer broadcast on each forward (several forwards per step; BN statistics of the
    # local batch). Newer PyTorch renames the switch.
    if "forward_sync_buffers" in inspect.signature(DDP.__init__).parameters:
        kwargs["forward_sync_buffers"] = False
    else:
        kwargs["broadcast_buffers"] = False
    return DDP(module, **kwargs)


@dataclass
class TrainModules:
    """The modules the phases call.

    ``generator``/``discriminator``: DDP-wrapped (and compiled) for the main passes;
    ``*_eager``: the same DDP wrappers uncompiled, for passes with a double backward;
    ``discriminator_g``: the bare D (compiled when asked) for the G phase.
    """

    generator: nn.Module
    discriminator: nn.Module | None
    generator_eager: nn.Module
    discriminator_eager: nn.Module | None
    discriminator_g: nn.Module | None
    no_sync: Callable[[nn.Module, bool], ContextManager]


def wrap_for_training(generator: nn.Module, discriminator: nn.Module | None, cfg: Any,
                      dist: DistInfo, device: torch.device) -> TrainModules:
    """DDP-wrap (``dist.enabled``) and compile (``trainer.compile``) the networks."""
    init_process_group(dist, device)
    gen_e = _ddp(generator, device) if dist.enabled else generator
    disc_e = _ddp(discriminator, device) if dist.enabled and discriminator is not None else discriminator
    on = bool(cfg.trainer.compile)
    return TrainModules(
        generator=maybe_compile(gen_e, on, "generator"),
        discriminator=maybe_compile(disc_e, on, "discriminator"),
        generator_eager=gen_e, discriminator_eager=disc_e,
        discriminator_g=maybe_compile(discriminator, on, "discriminator (generator phase)"),
        no_sync=_no_sync,
    )


def any_rank(flag: bool, dist: DistInfo, device: torch.device) -> bool:
    """True when ``flag`` is true on any process (every process must call it)."""
    if not dist.enabled:
        return bool(flag)
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    _tdist().all_reduce(value, op=_tdist().ReduceOp.MAX)
    return bool(value.item() > 0)


def agree_flags(flags: torch.Tensor, dist: DistInfo) -> torch.Tensor:
    """``flags`` (float, on the device) all-reduced with max over ranks, in place; no host read.

    Every rank must call it with the same shape. Without DDP, ``flags`` itself."""
    if dist.enabled:
        _tdist().all_reduce(flags, op=_tdist().ReduceOp.MAX)
    return flags


def reduce_logs(logs: dict[str, float], dist: DistInfo, device: torch.device) -> dict[str, float]:
    """Average logged scalars over ranks.

    ``img_per_s`` is averaged too: every rank already measures the *global* throughput
    (global batch / wall time of a step).
    """
    if not dist.enabled:
        return logs
    keys = sorted(logs)
    values = torch.tensor([float(logs[k]) for k in keys], device=device, dtype=torch.float64)
    _tdist().all_reduce(values)
    return {k: v / dist.world_size for k, v in zip(keys, values.tolist(), strict=True)}


@torch.no_grad()
def broadcast_buffers(module: nn.Module, dist: DistInfo) -> None:
    """Copy rank 0's buffers (e.g. BatchNorm running statistics) to every rank."""
    if not dist.enabled:
        return
    for buffer in module.buffers():
        _tdist().broadcast(buffer, src=0)
