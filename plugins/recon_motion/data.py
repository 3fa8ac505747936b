"""Training and evaluation datasets of (motion-corrupted, clean) slice pairs.

Motion is simulated on the whole slice (the scanner's field of view), so rotations bring in
background, not the inside of the brain; training patches are then cropped from the same
window of both images. Training item ``i`` is a pure function of ``(seed, i)``; evaluation
item ``i`` of ``(EVAL_SEED, i)``, so every run is scored on the same corrupted test slices.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import area_weights, random_crop, random_dihedral, random_flips, sample_generator, weighted_choice
from recon_motion.simulate import MotionParams, simulate_motion

EVAL_SEED = 0  # evaluation corruptions do not depend on the run's seed


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


def random_flip_rotate(pair: Tensor, rng: torch.Generator) -> Tensor:
    """One of the 8 flips / 90-degree rotations of a square ``(C, H, W)``; for a non-square one
    (whole slices, ``data.patch_size=0``) one of the 4 that keep its shape, so batches stack."""
    return random_dihedral(pair, rng) if pair.shape[-1] == pair.shape[-2] else random_flips(pair, rng)


class MotionPatchDataset(Dataset):
    """Item ``i``: a random slice, corrupted with random motion, then a random patch pair.

    Args:
        images: ``(C, H, W)`` float tensors in [0, 1] (the clean slices).
        patch_size: side of the training crop (0 = the whole slice; slices must then share a size).
        seed: the run seed.
        params: the motion to simulate.
        augment: a random flip / 90-degree rotation of the pair (after the simulation, so the
            network sees ghosting along both image axes; flips only for non-square slices).

    Items: ``{"input": (C, P, P), "target": (C, P, P)}``.
    """

    def __init__(self, images: list[Tensor], patch_size: int, seed: int, params: MotionParams,
                 augment: bool = True, length: int = 2**31 - 1) -> None:
        self.images, self.patch_size, self.seed = images, patch_size, seed
        self.params, self.augment, self.length = params, augment, length
        self.weights = area_weights(images)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = sample_generator(self.seed, index)
        clean = self.images[weighted_choice(self.weights, rng)]
        with one_thread():
            corrupted, _ = simulate_motion(clean, self.params, rng)
        pair = torch.cat([corrupted, clean])  # (2C, H, W): crop and flip both alike
        if self.patch_size:
            pair = random_crop(pair, self.patch_size, rng)
        if self.augment:
            pair = random_flip_rotate(pair, rng)
        c = clean.shape[0]
        return {"input": pair[:c].contiguous(), "target": pair[c:].contiguous()}


class MotionEvalDataset(Dataset):
    """Whole slices with a fixed corruption each: ``{"input", "target", "volume"}``."""

    def __init__(self, images: tuple[tuple[int, np.ndarray], ...], params: MotionParams) -> None:
        self.images, self.params = images, params

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        volume, array = self.images[index]
        clean = torch.from_numpy(array)
        with one_thread():
            corrupted, _ = simulate_motion(clean, self.params, sample_generator(EVAL_SEED, index))
        return {"input": corrupted, "target": clean, "volume": torch.tensor(volume)}
