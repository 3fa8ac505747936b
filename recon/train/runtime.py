"""Where a run executes: device choice, seeding, and the torchrun process layout."""

from __future__ import annotations

import os
import random
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from recon.errors import UsageError


@dataclass(frozen=True)
class DistInfo:
    """The process layout torchrun describes through its environment variables."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> "DistInfo":
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return cls(world, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")))


def resolve_device(name: str, dist: DistInfo | None = None) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` without a GPU is a usage error."""
    dist = dist or DistInfo()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError("--device cuda was asked for but no CUDA GPU is available (use --device cpu)")
        if name == "cuda":
            count = torch.cuda.device_count()
            if dist.local_rank >= count:
                raise UsageError(f"LOCAL_RANK={dist.local_rank} but only {count} CUDA device(s) are visible: "
                                 f"start at most {count} processes per node (torchrun --nproc_per_node {count})")
            return torch.device("cuda", dist.local_rank)
        if dist.enabled:
            raise UsageError(f"--device {name} under torchrun: use --device cuda (process LOCAL_RANK takes "
                             "cuda:LOCAL_RANK; restrict GPUs with CUDA_VISIBLE_DEVICES)")
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    raise UsageError(f"unknown device '{name}' (use auto, cpu or cuda)")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def decorrelate_ranks(seed: int, step: int, dist: DistInfo) -> None:
    """Give every rank but 0 its own global RNG streams, derived from (seed, step, rank).

    All ranks are seeded alike so that they build identical networks; afterwards draws from
    the global RNGs (e.g. a regularizer's ``torch.randn``) must differ between ranks or they
    would all use the same noise. Rank 0 keeps its stream, so a 1-process run is unchanged.
    """
    if dist.rank > 0:
        seed_everything((seed * 1_000_003 + step * 7_919 + dist.rank * 104_729) % (2**63 - 1))


def step_generator(seed: int, step: int, rank: int, device: torch.device) -> torch.Generator:
    """An RNG that depends only on (seed, step, rank): a resumed run draws the same numbers."""
    gen = torch.Generator(device=device)
    gen.manual_seed((seed * 2_147_483_647 + step * 65_537 + rank * 977 + 1) % (2**63 - 1))
    return gen


def seed_step(seed: int, step: int, rank: int) -> None:
    """Seed torch's global RNG (every device) for one training step from (seed, step, rank).

    The step's own draws come from :func:`step_generator`; what a task draws from the global
    RNG inside a step (noise inputs, dropout, style mixing, augmentation of D's inputs) is then
    also a function of (seed, step, rank) only, whatever touched the global RNG before: a
    fresh, a resumed and a rewound run draw the same numbers.
    """
    torch.manual_seed((seed * 1_000_033 + step * 104_723 + rank * 7_919 + 11) % (2**63 - 1))


def capture_rng() -> dict:
    """Every global RNG state, as types ``torch.load(weights_only=True)`` accepts."""
    np_state = np.random.get_state()
    assert isinstance(np_state, tuple)  # legacy=True (default) and the global MT19937: a tuple
    py_state = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached": float(np_state[4])},
        "python": {"version": py_state[0], "state": list(py_state[1]), "gauss": py_state[2]},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    """Inverse of :func:`capture_rng`."""
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    np.random.set_state(("MT19937", np_state["keys"].numpy().astype(np.uint32), np_state["pos"],
                         np_state["has_gauss"], np_state["cached"]))
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def subnormals_flushed() -> bool:
    """Whether this thread's CPU arithmetic treats subnormal floats as zero (FTZ/DAZ)."""
    return float((torch.tensor([1e-40], dtype=torch.float32) * 2).item()) == 0.0


@contextmanager
def flushing_subnormals(enabled: bool) -> Iterator[None]:
    """Within the block, subnormal floats (|x| < 1.2e-38) count as zero on the CPU
    (``torch.set_flush_denormal``): arithmetic on them is many times slower on x86, and a GAN's
    weights can drift into that range. The previous state is restored on exit, so other code
    of the process (numpy, hypothesis) keeps IEEE arithmetic. ``enabled=False``: no change."""
    if not enabled:
        yield
        return
    before = subnormals_flushed()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)
