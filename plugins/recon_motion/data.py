"""(motion-corrupted, clean) slice pairs, made inside core's datasets.

Motion is simulated on the whole slice (the scanner's field of view), so rotations bring in
background, not the inside of the brain; training patches are then cropped from the same
window of both images (:class:`recon.api.MeasuredCrops`). Training item ``i`` is a pure
function of ``(seed, i)``; evaluation item ``i`` of ``(0, i)``
(:class:`recon.api.MeasurementSlices`), so every run is scored on the same corrupted slices.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import Tensor

from recon_motion.simulate import MotionParams, simulate_motion


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the (small, many-op) simulation on one intra-op thread.

    With ``num_workers=0`` items are made in the training process, whose thread pool spins
    across every op; on a busy 2-core machine one simulation took 0.8 s with 2 threads and
    0.04 s with 1 (measured). DataLoader workers already use one thread each.
    """
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def corrupt(params: MotionParams):  # noqa: ANN201 - the sample maker of core's datasets
    """``(clean (C, H, W), rng) -> {"input": corrupted, "target": clean}``: motion of ``params``
    simulated on the whole slice with ``rng`` (on one intra-op thread, :func:`one_thread`)."""

    def sample(clean: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
        with one_thread():
            corrupted, _ = simulate_motion(clean, params, rng)
        return {"input": corrupted, "target": clean}
    return sample
