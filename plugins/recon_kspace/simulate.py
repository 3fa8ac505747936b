"""Retrospective k-space simulation from magnitude images.

Pipeline: magnitude ``(..., H, W)`` -> complex image with a smooth random phase -> the masked
(multi-coil) Fourier operator of core (:class:`recon.physics.MaskedFourier`: coil images via
the maps, k-space ``(..., C, H, W)``, C = 1 for single-coil, undersampling) -> its
pseudo-inverse, the zero-filled reconstruction. This module owns what is the task's policy:
the random phase and the measurement noise.

Why the phase: a magnitude image is real and non-negative, so its k-space is Hermitian
symmetric (``k(-u) = conj(k(u))``) — half of k-space is redundant. A network trained on such
k-space learns to exploit a symmetry that real acquisitions do not have (the MR image phase
from B0 inhomogeneity, coil phase and motion breaks it), and its scores are over-optimistic:
one of the "implicit data crimes" of Shimron, Tamir, Wang & Lustig, PNAS 119(13), 2022
(https://doi.org/10.1073/pnas.2117203118). A smooth random phase per image (a low-pass random
field) breaks the symmetry while keeping the magnitude — the target — unchanged.
Real fastMRI k-space already has its true phase and is used as is (see ``fastmri_io``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from recon.api import UsageError

from recon.api import IMAGE_DIMS, FourierParams, MaskedFourier, check_complex, ifftc

__all__ = [
    "smooth_random_phase",
    "add_smooth_phase",
    "add_kspace_noise",
    "KspaceSample",
    "simulate_sample",
]

#: the forward operator (stateless; its parameters are the mask and the coil maps)
FOURIER = MaskedFourier()


def _generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator | None:
    if generator is not None and seed is not None:
        raise UsageError("pass either seed or generator, not both")
    if seed is not None:
        return torch.Generator().manual_seed(int(seed))
    return generator


def smooth_random_phase(
    shape: tuple[int, ...],
    *,
    max_phase: float = math.pi,
    cutoff: int = 2,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Smooth random phase maps, real float32 ``shape = (..., H, W)``, values in ``[-max_phase, max_phase]``.

    Each ``(H, W)`` map is a low-pass Gaussian random field: i.i.d. complex normal coefficients
    on the ``(2 cutoff + 1)^2`` lowest spatial frequencies, inverse FFT, real part, scaled so
    its largest absolute value is ``max_phase``. Independent per leading index; deterministic
    for a given ``seed`` (or ``generator`` state).
    """
    if len(shape) < 2 or min(shape[-2:]) < 1:
        raise UsageError(f"phase shape must end in (H, W), got {shape!r}")
    if cutoff < 1:
        raise UsageError(f"phase cutoff must be >= 1, got {cutoff}")
    gen = _generator(seed, generator)
    h, w = int(shape[-2]), int(shape[-1])
    lead = tuple(int(s) for s in shape[:-2])
    kh, kw = min(2 * cutoff + 1, h), min(2 * cutoff + 1, w)
    coef = torch.randn(lead + (kh, kw, 2), generator=gen, dtype=torch.float64)
    k = torch.zeros(lead + (h, w), dtype=torch.complex128)
    r0, c0 = h // 2 - kh // 2, w // 2 - kw // 2
    k[..., r0 : r0 + kh, c0 : c0 + kw] = torch.complex(coef[..., 0], coef[..., 1])
    field = ifftc(k, IMAGE_DIMS).real
    peak = field.abs().amax(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    return (field / peak * float(max_phase)).to(torch.float32)


def add_smooth_phase(
    magnitude: Tensor,
    *,
    max_phase: float = math.pi,
    cutoff: int = 2,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Real magnitude ``(..., H, W)`` -> complex ``magnitude * exp(i * phase)`` with a smooth random phase."""
    if not isinstance(magnitude, Tensor) or torch.is_complex(magnitude) or magnitude.ndim < 2:
        raise UsageError("magnitude must be a real tensor (..., H, W)")
    phase = smooth_random_phase(tuple(magnitude.shape), max_phase=max_phase, cutoff=cutoff, seed=seed,
                                generator=generator)
    mag = magnitude.to(torch.float32)
    return torch.polar(mag.abs(), phase.to(mag.device))


def add_kspace_noise(
    kspace: Tensor, std: float, *, seed: int | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """Add i.i.d. complex Gaussian noise (``std`` per real/imag part) to k-space."""
    check_complex(kspace, "k-space")
    if std < 0:
        raise UsageError(f"noise std must be >= 0, got {std}")
    if std == 0:
        return kspace
    gen = _generator(seed, generator)
    noise = torch.randn(kspace.shape + (2,), generator=gen, dtype=kspace.real.dtype).to(kspace.device)
    return kspace + std * torch.complex(noise[..., 0], noise[..., 1])


@dataclass
class KspaceSample:
    """One simulated example (leading dims ``...`` as in the input magnitude).

    image: complex ground truth ``(..., H, W)``; the target magnitude is ``image.abs()``.
    kspace: fully sampled k-space ``(..., C, H, W)``.
    masked_kspace: ``kspace * mask`` (plus noise if requested), ``(..., C, H, W)``.
    mask: the bool mask as given, ``(1, W)`` or ``(H, W)``.
    maps: coil maps ``(C, H, W)`` or ``None`` for single-coil.
    zero_filled: complex zero-filled reconstruction ``(..., H, W)``.
    """

    image: Tensor
    kspace: Tensor
    masked_kspace: Tensor
    mask: Tensor
    maps: Tensor | None
    zero_filled: Tensor


def simulate_sample(
    magnitude: Tensor,
    mask: Tensor,
    *,
    maps: Tensor | None = None,
    seed: int | None = None,
    max_phase: float = math.pi,
    phase_cutoff: int = 2,
    noise_std: float = 0.0,
) -> KspaceSample:
    """Magnitude ``(..., H, W)`` -> ``KspaceSample`` with a smooth random phase (``max_phase=0`` disables it).

    ``mask`` is ``(1, W)`` or ``(H, W)`` (see ``masks.make_mask``); ``maps`` ``(C, H, W)`` makes
    multi-coil data. Deterministic for a given ``seed`` (``None``: drawn from torch's global RNG).
    """
    # seed=None draws the seed from torch's global RNG, so torch.manual_seed still reproduces runs
    gen = _generator(int(torch.randint(0, 2**62, ()).item()) if seed is None else seed, None)
    if max_phase > 0:
        image = add_smooth_phase(magnitude, max_phase=max_phase, cutoff=phase_cutoff, generator=gen)
    else:
        if not isinstance(magnitude, Tensor) or torch.is_complex(magnitude) or magnitude.ndim < 2:
            raise UsageError("magnitude must be a real tensor (..., H, W)")
        image = magnitude.to(torch.float32).abs().to(torch.complex64)
    if maps is not None:
        maps = maps.to(device=image.device)
    params = FourierParams(mask.to(device=image.device), maps)
    kspace = FOURIER.to_kspace(image, maps)
    masked = FOURIER.mask_kspace(kspace, params)
    if noise_std > 0:
        masked = FOURIER.mask_kspace(add_kspace_noise(masked, noise_std, generator=gen), params)
    return KspaceSample(
        image=image,
        kspace=kspace,
        masked_kspace=masked,
        mask=mask,
        maps=maps,
        zero_filled=FOURIER.pseudo_inverse(masked, params),
    )
