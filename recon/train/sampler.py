"""Batch sampler that turns (step, rank, micro-batch) into sample indices.

Global step ``s`` uses sample indices ``s*B .. s*B + B - 1`` (``B`` = ``trainer.batch_size``,
the global batch). Rank ``r`` of ``W`` takes the contiguous chunk ``[r*B/W, (r+1)*B/W)`` and
splits it into ``grad_accum`` micro-batches. Together with a dataset whose item ``i`` depends
only on (seed, i), this makes training independent of the number of processes, workers
and restarts: a 2-rank run sees the same global batches as a 1-rank run.

This replaces ``torch.utils.data.DistributedSampler``: its per-epoch permutation is split
by rank (``indices[rank::world]``), so the samples of a step depend on the world size and a
checkpoint could not resume with another number of processes on the same data. Training
datasets here are indexed by a global sample counter (item ``i`` is a pure function of
``(seed, i)``), which plays the role of the per-epoch seed.
"""

from __future__ import annotations

from typing import Iterator

from torch.utils.data import Sampler

from recon.train.runtime import DistInfo


class StepBatchSampler(Sampler[list[int]]):
    """Yields the micro-batches of this rank for steps ``start_step, start_step + 1, ...``."""

    def __init__(self, batch_size: int, grad_accum: int, dist: DistInfo, start_step: int = 0) -> None:
        self.batch_size = batch_size
        self.grad_accum = grad_accum
        self.dist = dist
        self.start_step = start_step
        self.local = batch_size // dist.world_size
        self.micro = self.local // grad_accum

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            base = step * self.batch_size + self.dist.rank * self.local
            for m in range(self.grad_accum):
                start = base + m * self.micro
                yield list(range(start, start + self.micro))
            step += 1

    def __len__(self) -> int:  # effectively infinite
        return 2**31 - 1
