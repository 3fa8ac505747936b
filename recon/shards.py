"""Rank-sharded work under torch.distributed: who scores which items, and moving results.

Evaluation (:mod:`recon.evaluation`) splits its items with :func:`shard_range`; each rank's
predictions travel to rank 0 through :func:`gather_to_main` and the result back through
:func:`broadcast_from_main`. Without an initialised process group every function is the
one-process identity. Python objects travel over :func:`object_group` (a gloo group in host
memory under NCCL, set by :func:`recon.train.distributed.init_process_group`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["rank_and_world", "shard_range", "gather_to_main", "broadcast_from_main", "set_object_group",
           "object_group"]

_OBJECT_GROUP: Any = None  # a gloo group for Python objects (None: the default group)


def _tdist() -> Any:
    import torch.distributed as tdist

    return tdist


def set_object_group(group: Any) -> None:
    """Use ``group`` (or the default group when ``None``) for gathers of Python objects."""
    global _OBJECT_GROUP
    _OBJECT_GROUP = group


def object_group() -> Any:
    """The group Python objects travel over (``None``: the default group)."""
    return _OBJECT_GROUP


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of the initialised process group, ``(0, 1)`` without one."""
    tdist = _tdist()
    if not (tdist.is_available() and tdist.is_initialized()):
        return 0, 1
    return tdist.get_rank(), tdist.get_world_size()


def shard_range(n: int) -> range:
    """This process's contiguous share of ``range(n)`` (all of it without a process group)."""
    rank, world = rank_and_world()
    return range(n * rank // world, n * (rank + 1) // world)


def gather_to_main(obj: Any) -> list[Any] | None:
    """Every rank's ``obj`` (picklable), in rank order, on rank 0; ``None`` elsewhere."""
    rank, world = rank_and_world()
    if world == 1:
        return [obj]
    out = [None] * world if rank == 0 else None
    _tdist().gather_object(obj, out, dst=0, group=_OBJECT_GROUP)
    return out


def broadcast_from_main(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    rank, world = rank_and_world()
    if world == 1:
        return obj
    box = [obj if rank == 0 else None]
    _tdist().broadcast_object_list(box, src=0, group=_OBJECT_GROUP)
    return box[0]
