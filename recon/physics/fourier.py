"""Masked (multi-coil) Fourier sampling: the forward model of undersampled Cartesian MRI.

``A x = M F S x``: a complex image ``x`` ``(..., H, W)`` is multiplied by the coil maps ``S``
(``(..., C, H, W)``; single-coil ``C = 1``, no maps), transformed by the centred orthonormal 2D
FFT ``F`` (:mod:`recon.physics.fft`) and multiplied by the sampling mask ``M``. Its adjoint is
``A^H y = S^H F^H M y`` (SENSE combination of the masked coil images). The pseudo-inverse is the
zero-filled reconstruction ``A^H y`` — the Moore-Penrose inverse for single-coil data (``F`` is
unitary, ``M`` a projection) and for fully sampled multi-coil data with normalised maps
(``sum_c |S_c|^2 = 1``).

Masks: nonzero = sampled, in the layout of fastMRI (the DC at ``(H // 2, W // 2)``): a column
mask ``(W,)`` / ``(1, W)``, a 2D mask ``(H, W)``, or either with leading dims that broadcast over
the coil k-space ``(..., C, H, W)`` (e.g. ``(N, 1, 1, W)``). Which masks to draw (equispaced,
random, Poisson-disc, at which acceleration) is a policy of the caller: :class:`MaskedFourier`
takes a ``mask_sampler``; a plugin may also build :class:`FourierParams` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import Tensor

from recon.errors import UsageError
from recon.physics.coils import coil_combine_rss, sense_combine, sense_expand, simulate_coil_maps
from recon.physics.fft import IMAGE_DIMS, check_complex, fftc, ifftc
from recon.physics.operator import LinearOperator, require_params

__all__ = ["FourierParams", "MaskedFourier", "MaskSampler", "apply_mask", "validate_mask"]

#: ``(shape (H, W), generator) -> mask`` (nonzero = sampled, ``(1, W)`` or ``(H, W)``)
MaskSampler = Callable[[tuple[int, int], "torch.Generator | None"], Tensor]


def _shape2d(shape: Sequence[int]) -> tuple[int, int]:
    try:
        dims = tuple(int(s) for s in shape)
    except TypeError:
        raise UsageError(f"k-space shape must be a sequence of ints (..., H, W), got {shape!r}") from None
    if len(dims) < 2 or dims[-1] < 1 or dims[-2] < 1:
        raise UsageError(f"k-space shape must end in positive (H, W), got {shape!r}")
    return dims[-2], dims[-1]


def validate_mask(mask: Tensor, kspace_shape: Sequence[int], name: str = "mask") -> Tensor:
    """Check that ``mask`` fits k-space of shape ``(..., H, W)`` and samples something; returns it.

    The mask's last two dims must be ``(H or 1, W)`` (a ``(W,)`` vector is a column mask) and its
    leading dims must broadcast. A width or height that differs — typically an odd/even
    mismatch such as a 369-column mask on 368-column k-space — moves the k-space centre, so it is
    a ``UsageError``, never a silent crop.
    """
    if not isinstance(mask, Tensor):
        raise UsageError(f"{name} must be a torch tensor, got {type(mask).__name__}")
    h, w = _shape2d(kspace_shape)
    mh, mw = (1, mask.shape[-1]) if mask.ndim == 1 else (mask.shape[-2], mask.shape[-1])
    if mw != w or mh not in (1, h):
        hint = " (odd/even mismatch)" if (mw % 2 != w % 2) or (mh not in (1, h) and mh % 2 != h % 2) else ""
        raise UsageError(
            f"{name} shape {tuple(mask.shape)} does not match k-space (H, W) = ({h}, {w}){hint}; "
            f"make the mask for this k-space size"
        )
    if mask.ndim > 2:
        lead_k = tuple(kspace_shape)[:-2]
        try:
            torch.broadcast_shapes(tuple(mask.shape[:-2]), lead_k)
        except RuntimeError:
            raise UsageError(
                f"{name} shape {tuple(mask.shape)} does not broadcast over k-space {tuple(kspace_shape)}"
            ) from None
    if mask.device.type != "meta" and not bool((mask != 0).any()):
        raise UsageError(f"{name} samples nothing (all zeros)")
    return mask


def apply_mask(kspace: Tensor, mask: Tensor) -> Tensor:
    """Zero the unsampled locations: ``kspace * mask`` after :func:`validate_mask`; shape of ``kspace``."""
    validate_mask(mask, kspace.shape)
    m = mask.reshape(1, -1) if mask.ndim == 1 else mask
    return kspace * m.to(kspace.real.dtype if torch.is_complex(kspace) else kspace.dtype)


@dataclass(frozen=True)
class FourierParams:
    """Per-sample parameters of :class:`MaskedFourier`.

    mask: nonzero = sampled; ``(W,)``, ``(1, W)``, ``(H, W)`` or with leading dims broadcasting
        over the coil k-space ``(..., C, H, W)``.
    maps: complex coil maps ``(..., C, H, W)`` broadcasting over the coil k-space, normalised
        ``sum_c |S_c|^2 = 1``; ``None`` for single-coil data.
    """

    mask: Tensor
    maps: Tensor | None = None


@dataclass(frozen=True)
class MaskedFourier(LinearOperator):
    """``A x = M F S x``: complex image ``(..., H, W)`` -> masked coil k-space ``(..., C, H, W)``.

    Args:
        mask_sampler: draws a mask for ``sample`` (``(H, W), generator -> mask``); ``None``: the
            caller builds :class:`FourierParams` itself.
        coils: coil maps that ``sample`` simulates (:func:`~recon.physics.coils.simulate_coil_maps`,
            a seed drawn from the generator after the mask); 1 = single-coil, no maps.

    ``to_kspace`` (``F S``) and ``from_kspace`` (``S^H F^H``) are the unmasked halves, for data
    consistency: replace the sampled locations of ``to_kspace(x)`` by the measurement, then
    ``from_kspace``.
    """

    mask_sampler: MaskSampler | None = None
    coils: int = 1
    baseline_name = "zero-filled"
    params_type = FourierParams

    def sample(self, shape: Sequence[int], generator: torch.Generator | None = None) -> FourierParams:
        """Parameters for ``x`` of ``(..., H, W)``: a mask from ``mask_sampler`` and, for ``coils > 1``,
        simulated maps ``(C, H, W)``."""
        h, w = _shape2d(shape)
        if self.mask_sampler is None:
            raise UsageError("this MaskedFourier has no mask_sampler: build FourierParams(mask, maps) yourself")
        mask = self.mask_sampler((h, w), generator)
        maps = None
        if self.coils > 1:
            seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
            maps = simulate_coil_maps(self.coils, (h, w), seed=seed, device=mask.device)
        return FourierParams(mask, maps)

    # -- the unmasked halves ------------------------------------------------------------------
    @staticmethod
    def to_kspace(x: Tensor, maps: Tensor | None = None) -> Tensor:
        """``F S x``: complex image ``(..., H, W)`` -> full coil k-space ``(..., C, H, W)``.

        ``maps``: complex ``(..., C, H, W)`` (``params.maps``); ``None``: single-coil, ``C = 1``.
        """
        check_complex(x, "image")
        coil_images = x.unsqueeze(-3) if maps is None else sense_expand(x, maps)
        return fftc(coil_images, IMAGE_DIMS)

    @staticmethod
    def coil_images(kspace: Tensor) -> Tensor:
        """``F^H k`` per coil: coil k-space ``(..., C, H, W)`` -> complex coil images ``(..., C, H, W)``."""
        check_complex(kspace, "k-space", min_dim=3)
        return ifftc(kspace, IMAGE_DIMS)

    @classmethod
    def from_kspace(cls, kspace: Tensor, maps: Tensor | None = None) -> Tensor:
        """``S^H F^H k``: coil k-space ``(..., C, H, W)`` -> complex image ``(..., H, W)``.

        Single-coil (``C == 1``, ``maps=None``): the inverse FFT. Multi-coil needs the maps
        ``(..., C, H, W)`` (use :meth:`zero_filled_magnitude` for a magnitude without them).
        """
        coil_images = cls.coil_images(kspace)
        if maps is not None:
            return sense_combine(coil_images, maps)
        if kspace.shape[-3] != 1:
            raise UsageError(
                f"multi-coil k-space {tuple(kspace.shape)} needs coil maps for a complex image; "
                f"use the root-sum-of-squares (zero_filled_magnitude) for the magnitude"
            )
        return coil_images.squeeze(-3)

    @staticmethod
    def mask_kspace(kspace: Tensor, params: FourierParams) -> Tensor:
        """``M k``: coil k-space ``(..., C, H, W)`` with the unsampled locations zeroed."""
        return apply_mask(kspace, params.mask)

    # -- the contract -------------------------------------------------------------------------
    def forward(self, x: Tensor, params: FourierParams | None = None) -> Tensor:
        """``M F S x``: complex image ``(..., H, W)`` -> masked coil k-space ``(..., C, H, W)``
        (``params`` required)."""
        params = require_params(params, "MaskedFourier.forward")
        return self.mask_kspace(self.to_kspace(x, params.maps), params)

    def adjoint(self, y: Tensor, params: FourierParams | None = None) -> Tensor:
        """``S^H F^H M y``: coil k-space ``(..., C, H, W)`` -> complex image ``(..., H, W)``
        (``params`` required)."""
        params = require_params(params, "MaskedFourier.adjoint")
        return self.from_kspace(self.mask_kspace(y, params), params.maps)

    def pseudo_inverse(self, y: Tensor, params: FourierParams | None = None) -> Tensor:
        """The zero-filled reconstruction ``A^H y``: coil k-space ``(..., C, H, W)`` -> complex ``(..., H, W)``
        (``params`` required)."""
        return self.adjoint(y, require_params(params, "MaskedFourier.pseudo_inverse"))

    def zero_filled_magnitude(self, y: Tensor, params: FourierParams) -> Tensor:
        """The magnitude baseline ``(..., H, W)``: ``|A^H y|`` single-coil, the root-sum-of-squares of
        the zero-filled coil images multi-coil (needs no maps; equals ``|x|`` for consistent data)."""
        check_complex(y, "k-space", min_dim=3)
        if y.shape[-3] == 1:
            return self.pseudo_inverse(y, params).abs()
        return coil_combine_rss(self.coil_images(self.mask_kspace(y, params)))
