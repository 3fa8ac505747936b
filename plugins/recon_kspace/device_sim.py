"""The simulated k-space of :mod:`recon_kspace.data` in two halves (``data.simulate_on=device``).

:func:`draw` makes, per sample on the CPU, every random draw of
:meth:`recon_kspace.data.Simulation.item` from the same seeds — the mask, the coil maps, the
smooth phase and the k-space noise — and :func:`measure` applies the (multi-coil) Fourier
operator to the whole collated batch on its device, giving the keys of ``item`` (module
docstring of :mod:`recon_kspace.data`) in its order, to float tolerance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from recon.api import FourierParams, simulate_coil_maps, to_channels
from recon_kspace.simulate import FOURIER, smooth_random_phase

if TYPE_CHECKING:
    from recon_kspace.data import Simulation

__all__ = ["draw", "measure"]


def draw(sim: "Simulation", magnitude: Tensor, mask_seed: int, seed: int) -> dict[str, Any]:
    """The draws of ``sim.item(magnitude, mask_seed, seed)`` without the measurement.

    Args:
        magnitude: float ``(1, H, W)``.

    Returns:
        ``{"target": (1, H, W), "mask": float (1, 1, W) or (1, H, W), "maps": complex64 (C, H, W)
        (multi-coil only), "params": {"phase": float32 (H, W) (max_phase > 0), "noise": float32
        (C, H, W, 2) (noise_std > 0)}}``.
    """
    from recon_kspace.data import one_thread

    h, w = magnitude.shape[-2:]
    mask = sim.mask((h, w), mask_seed)
    out: dict[str, Any] = {"target": magnitude, "mask": mask.reshape(1, *mask.shape).float()}
    if sim.coils > 1:
        out["maps"] = simulate_coil_maps(sim.coils, (h, w), seed=seed).to(torch.complex64)
    params: dict[str, Tensor] = {}
    gen = torch.Generator().manual_seed(int(seed))  # simulate_sample's: the phase first, then the noise
    with one_thread():
        if sim.max_phase > 0:
            params["phase"] = smooth_random_phase((int(h), int(w)), max_phase=sim.max_phase, cutoff=sim.phase_cutoff,
                                                  generator=gen)
        if sim.noise_std > 0:
            params["noise"] = torch.randn((sim.coils, int(h), int(w), 2), generator=gen, dtype=torch.float32)
    if params:
        out["params"] = params
    return out


def measure(sim: "Simulation", batch: dict[str, Any], full: bool = False) -> dict[str, Any]:
    """The collated output of :func:`draw` (any device) -> the batch of ``item``: ``input``
    ``(N, 1, H, W)``, ``target``, ``zero_filled`` ``(N, 2, H, W)``, ``kspace`` ``(N, C, H, W)``,
    ``mask``, ``maps`` (multi-coil) and, with ``full``, ``kspace_full`` ``(N, C, H, W)``."""
    magnitude = batch["target"][:, 0].to(torch.float32).abs()  # (N, H, W)
    params = batch.get("params", {})
    image = torch.polar(magnitude, params["phase"]) if "phase" in params else magnitude.to(torch.complex64)
    maps = batch.get("maps")
    fourier = FourierParams(batch["mask"], maps)  # (N, 1, 1, W) / (N, 1, H, W) broadcast over (N, C, H, W)
    kspace = FOURIER.to_kspace(image, maps)
    masked = FOURIER.mask_kspace(kspace, fourier)
    if "noise" in params:
        noise = params["noise"]
        masked = FOURIER.mask_kspace(masked + sim.noise_std * torch.complex(noise[..., 0], noise[..., 1]), fourier)
    zero_filled = FOURIER.pseudo_inverse(masked, fourier)
    out = {
        "input": FOURIER.zero_filled_magnitude(masked, fourier).unsqueeze(1).float(),
        "target": batch["target"],
        "zero_filled": to_channels(zero_filled, dim=1).float(),
        "kspace": masked.to(torch.complex64),
        "mask": batch["mask"],
    }
    if maps is not None:
        out["maps"] = maps
    if full:
        out["kspace_full"] = kspace.to(torch.complex64)
    return out
