"""Run a test function in two gloo processes (CPU torch.distributed), as torchrun would."""

from __future__ import annotations

import os
import socket
from typing import Any, Callable

import torch
import torch.distributed as tdist
import torch.multiprocessing as mp

available = tdist.is_available() and tdist.is_gloo_available()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, port: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    os.environ.update(OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        fn(*args)
    finally:
        tdist.barrier()
        tdist.destroy_process_group()


def run_on_two_ranks(fn: Callable[..., Any], *args: Any) -> None:
    """``fn(*args)`` in two processes joined in one gloo group (``fn`` must be importable)."""
    mp.spawn(_worker, args=(_free_port(), fn, args), nprocs=2, join=True)
