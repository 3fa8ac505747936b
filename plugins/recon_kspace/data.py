"""Simulated k-space made from magnitude images (the built-in MNI152 slices or the user's
images/volumes): the sample maker of core's datasets (:func:`simulated_sample`).

Each item: magnitude ``(1, H, W)`` in [0, 1] -> smooth random phase -> the masked (multi-coil)
Fourier operator of core, :class:`recon.physics.MaskedFourier`, with this sample's mask and coil
maps (its :class:`~recon.physics.FourierParams`) -> its zero-filled pseudo-inverse
(``simulate.simulate_sample``). Keys (``C`` coils, 1 for single-coil):

- ``input``: zero-filled magnitude ``(1, H, W)`` (RSS of the coil images for multi-coil), the
  classical baseline and what ``samples/*.png`` show;
- ``zero_filled``: the complex zero-filled image as ``(2, H, W)`` (real, imag), SENSE-combined
  for multi-coil; ``kspace``: measured (masked) k-space, complex64 ``(C, H, W)``;
  ``mask``: float32 ``(1, 1, W)`` (Cartesian) or ``(1, H, W)`` (Poisson-disc);
  ``maps``: complex64 ``(C, H, W)`` coil maps (multi-coil only);
- ``kspace_full``: the fully sampled k-space ``(C, H, W)`` (training items, for ``loss.kspace``);
- ``target``: the magnitude ``(1, H, W)``; evaluation items add ``volume``.

Training item ``i`` is a pure function of ``(seed, i)`` (:class:`recon.api.RandomPatchDataset`:
rows x columns crops, flips); evaluation item ``j`` of ``j`` alone
(:class:`recon.api.MeasurementSlices`: the run's seed does not change the test inputs).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch
from torch import Tensor

from recon.api import SplitSample, UsageError
from recon.api import FourierParams, MaskedFourier, simulate_coil_maps, to_channels
from recon_kspace.masks import make_mask
from recon_kspace.simulate import FOURIER, simulate_sample

_SEED_RANGE = 2**31 - 1


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the (small, many-op) simulation on one intra-op thread: with ``num_workers=0`` it
    runs in the training process, whose thread pool otherwise spins on every tiny op."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class Simulation:
    """How a magnitude image becomes measured k-space (the ``mask`` and ``data`` sections)."""

    kind: str = "equispaced"
    acceleration: float = 4.0
    center_fraction: float | None = None
    fixed_mask_seed: int | None = None  # one mask for every sample (``mask.seed_mode=fixed``)
    coils: int = 1
    max_phase: float = float(np.pi)
    phase_cutoff: int = 2
    noise_std: float = 0.0

    @classmethod
    def from_config(cls, cfg: object) -> "Simulation":
        m, d = cfg.mask, cfg.data  # type: ignore[attr-defined]
        return cls(m.kind, float(m.acceleration), m.center_fraction,
                   m.seed if m.seed_mode == "fixed" else None, d.coils, d.max_phase, d.phase_cutoff, d.noise_std)

    def mask(self, shape: tuple[int, int], seed: int) -> Tensor:
        """Bool ``(1, W)`` or ``(H, W)`` mask; ``seed`` is used unless the mask is fixed."""
        use = self.fixed_mask_seed if self.fixed_mask_seed is not None else seed
        mask = make_mask(self.kind, shape, self.acceleration, self.center_fraction, seed=use)
        if not bool(mask.any()):
            raise UsageError(f"mask.kind={self.kind} at {self.acceleration:g}x with center_fraction="
                             f"{self.center_fraction} samples nothing on {shape[0]}x{shape[1]} k-space")
        return mask

    def sample_mask(self, shape: tuple[int, int], generator: torch.Generator | None) -> Tensor:
        """:meth:`mask` with a seed drawn from ``generator`` (the operator's ``mask_sampler``)."""
        return self.mask(shape, _seed(generator))

    def operator(self) -> MaskedFourier:
        """The forward operator: masks of this simulation, ``coils`` simulated coil maps."""
        return MaskedFourier(mask_sampler=self.sample_mask, coils=self.coils)

    def item(self, magnitude: Tensor, mask_seed: int, seed: int, full: bool = False) -> dict[str, Tensor]:
        """One sample from a magnitude image ``(1, H, W)`` (keys: module docstring)."""
        h, w = magnitude.shape[-2:]
        mask = self.mask((h, w), mask_seed)
        maps = simulate_coil_maps(self.coils, (h, w), seed=seed) if self.coils > 1 else None
        with one_thread():
            s = simulate_sample(magnitude[0], mask, maps=maps, seed=seed, max_phase=self.max_phase,
                                phase_cutoff=self.phase_cutoff, noise_std=self.noise_std)
            zf_mag = FOURIER.zero_filled_magnitude(s.masked_kspace, FourierParams(s.mask, s.maps))
        item = {
            "input": zf_mag.unsqueeze(0).float(),
            "target": magnitude,
            "zero_filled": to_channels(s.zero_filled, dim=0).float(),
            "kspace": s.masked_kspace.to(torch.complex64),
            "mask": mask.reshape(1, *mask.shape).float(),
        }
        if maps is not None:
            item["maps"] = maps.to(torch.complex64)
        if full:
            item["kspace_full"] = s.kspace.to(torch.complex64)
        return item


def _seed(rng: torch.Generator | None) -> int:
    return int(torch.randint(0, _SEED_RANGE, (1,), generator=rng))


def simulated_sample(sim: Simulation, full: bool = False) -> SplitSample:
    """``(magnitude (1, H, W), rng) -> item``: :meth:`Simulation.item` with its mask and phase
    seeds drawn from ``rng`` (two draws), the sample maker of core's datasets; ``full`` adds the
    fully sampled k-space (training: the k-space loss reads it). Its measurement also runs
    batched on the device (``data.simulate_on=device``, :func:`recon_kspace.device_sim.draw`)."""
    from recon_kspace.device_sim import draw, measure

    def sample(image: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
        return sim.item(image.float().contiguous(), _seed(rng), _seed(rng), full=full)

    def drawn(image: Tensor, rng: torch.Generator) -> dict[str, Any]:
        return draw(sim, image.float().contiguous(), _seed(rng), _seed(rng))
    return SplitSample(sample, drawn, lambda batch: measure(sim, batch, full))
