"""Data-consistency (DC) layers: make a predicted image agree with the measured k-space.

A DC layer holds the forward operator :class:`recon.physics.MaskedFourier` (``A = M F S``) and
receives the measurement with the operator's parameters, :class:`recon.physics.FourierParams`
``(mask, maps)``. Layouts: image complex ``(N, H, W)``; measured k-space complex ``(N, C, H, W)``
(``C = 1`` single-coil; ``(N, H, W)`` complex or ``(N, 2, H, W)`` real are accepted for
single-coil); ``params.mask`` ``(N|1, 1, H|1, W)`` (or ``(W,)``, ``(1, W)``, ``(H, W)``),
nonzero = sampled; ``params.maps`` complex ``(N|1, C, H, W)`` for multi-coil, ``None`` for
single-coil.

With ``k_pred = F S x`` the coil k-space of the prediction (``operator.to_kspace``; ``S`` =
identity for single-coil) and ``m`` the mask:

* hard replacement:  ``k_out = (1 - m) k_pred + m k_meas``  (sampled locations are replaced)
* soft, learned ``lam = softplus(rho) >= 0``:
  ``k_out = (1 - m w) k_pred + m w k_meas`` with ``w = lam / (1 + lam)`` — i.e. at sampled
  locations ``(k_pred + lam k_meas) / (1 + lam)``, the closed-form minimiser of
  ``|k - k_pred|^2 + lam |k - k_meas|^2`` (DAGAN / D5C5-style noisy DC). ``lam -> inf`` gives hard DC,
  ``lam = 0`` leaves the prediction unchanged.

The output image is ``S^H F^H k_out`` (``operator.from_kspace``: the inverse FFT single-coil,
``sum_c conj(S_c) F^H k_out_c`` multi-coil, the SENSE combination). Single-coil output k-space
equals the measurement exactly at the sampled locations. Multi-coil: the *coil* k-space
``k_out`` (``return_kspace=True``) does; the combined image is its SENSE projection, which
reproduces the measurement exactly only when the
measurement is consistent with the maps and the prediction (exact multi-coil projection needs an
iterative solve, e.g. CG as in MoDL). FFTs run in float32/complex64 even under autocast.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recon.api import UsageError
from recon.api import FourierParams, MaskedFourier, to_complex, validate_mask

__all__ = [
    "as_coil_kspace",
    "as_mask",
    "hard_dc_kspace",
    "soft_dc_kspace",
    "DataConsistency",
    "HardDataConsistency",
    "SoftDataConsistency",
    "make_dc",
]


def as_coil_kspace(kspace: Tensor) -> Tensor:
    """Measured k-space -> complex ``(N, C, H, W)``.

    Accepts complex ``(N, C, H, W)``, complex ``(N, H, W)`` (single-coil) or real ``(N, 2, H, W)``
    (single-coil, real/imag channels).
    """
    if not isinstance(kspace, Tensor):
        raise UsageError(f"k-space must be a torch tensor, got {type(kspace).__name__}")
    if torch.is_complex(kspace):
        if kspace.ndim == 3:
            return kspace.unsqueeze(1)
        if kspace.ndim == 4:
            return kspace
        raise UsageError(f"complex k-space must be (N, H, W) or (N, C, H, W), got shape {tuple(kspace.shape)}")
    if kspace.ndim == 4 and kspace.shape[1] == 2:
        return to_complex(kspace.float(), dim=1).unsqueeze(1)
    raise UsageError(
        f"real k-space must be (N, 2, H, W) (real, imag channels), got shape {tuple(kspace.shape)}; "
        f"pass multi-coil k-space as a complex (N, C, H, W) tensor"
    )


def as_mask(mask: Tensor, kspace_shape: tuple[int, ...]) -> Tensor:
    """Mask -> float32 ``(N|1, 1, H|1, W)`` for coil k-space of shape ``(N, C, H, W)``, validated."""
    validate_mask(mask, kspace_shape)
    m = mask
    if m.ndim == 1:
        m = m.reshape(1, 1, 1, -1)
    elif m.ndim == 2:
        m = m.reshape(1, 1, *m.shape)
    elif m.ndim == 3:
        m = m.unsqueeze(1)
    elif m.ndim != 4:
        raise UsageError(f"mask must have 1 to 4 dims, got shape {tuple(mask.shape)}")
    n = kspace_shape[0]
    if m.shape[0] not in (1, n) or m.shape[1] != 1:
        raise UsageError(f"mask shape {tuple(mask.shape)} must be (N|1, 1, H|1, W) for k-space {tuple(kspace_shape)}")
    return m.to(torch.float32)


def hard_dc_kspace(k_pred: Tensor, k_meas: Tensor, mask: Tensor) -> Tensor:
    """``(1 - m) k_pred + m k_meas`` with a binary mask; exact at sampled locations."""
    return torch.where(mask > 0.5, k_meas, k_pred)


def soft_dc_kspace(k_pred: Tensor, k_meas: Tensor, mask: Tensor, weight: Tensor) -> Tensor:
    """``(1 - m w) k_pred + m w k_meas``; ``w = lam / (1 + lam)`` in [0, 1]."""
    mw = mask * weight
    return (1 - mw) * k_pred + mw * k_meas


class DataConsistency(nn.Module):
    """Base DC layer: ``forward(image, kspace, params, return_kspace=False)``.

    image: complex ``(N, H, W)`` (or real ``(N, 2, H, W)``, converted); kspace: the measurement;
    params: its :class:`~recon.physics.FourierParams` (layouts: module docstring). Returns complex
    ``(N, H, W)``, and the DC'd coil k-space ``(N, C, H, W)`` too when ``return_kspace``.

    Args:
        operator: the forward operator (default: ``MaskedFourier()``).
    """

    def __init__(self, operator: MaskedFourier | None = None):
        super().__init__()
        self.operator = operator if operator is not None else MaskedFourier()

    def combine_kspace(self, k_pred: Tensor, k_meas: Tensor, mask: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, image: Tensor, kspace: Tensor, params: FourierParams, return_kspace: bool = False):
        if not torch.is_complex(image):
            image = to_complex(image.float(), dim=-3)
        image = image.to(torch.complex64) if image.dtype == torch.complex32 else image
        k_meas = as_coil_kspace(kspace)
        if image.ndim != 3 or tuple(image.shape[-2:]) != tuple(k_meas.shape[-2:]) or image.shape[0] != k_meas.shape[0]:
            raise UsageError(f"image {tuple(image.shape)} does not match k-space {tuple(k_meas.shape)} (N, H, W)")
        m = as_mask(params.mask, tuple(k_meas.shape)).to(k_meas.device)
        maps = params.maps
        if maps is None:
            if k_meas.shape[1] != 1:
                raise UsageError(f"multi-coil k-space {tuple(k_meas.shape)} needs coil maps (N|1, C, H, W)")
        elif maps.ndim != 4 or maps.shape[1] != k_meas.shape[1] or tuple(maps.shape[-2:]) != tuple(k_meas.shape[-2:]):
            raise UsageError(f"coil maps {tuple(maps.shape)} do not match k-space {tuple(k_meas.shape)} (N|1, C, H, W)")
        k_pred = self.operator.to_kspace(image, maps)
        k_out = self.combine_kspace(k_pred, k_meas.to(k_pred.dtype), m)
        out = self.operator.from_kspace(k_out, maps)
        return (out, k_out) if return_kspace else out


class HardDataConsistency(DataConsistency):
    """Hard replacement of the sampled k-space locations by the measurement."""

    def combine_kspace(self, k_pred: Tensor, k_meas: Tensor, mask: Tensor) -> Tensor:
        return hard_dc_kspace(k_pred, k_meas, mask)


class SoftDataConsistency(DataConsistency):
    """Learned soft DC: ``w = lam / (1 + lam)``, ``lam = softplus(rho) >= 0``, one scalar per layer.

    ``init_lambda`` sets the starting ``lam`` (default 10: ``w ~ 0.91``); ``learnable=False``
    freezes it. ``lam`` and ``weight`` are read-only properties for logging.
    """

    def __init__(self, init_lambda: float = 10.0, learnable: bool = True, operator: MaskedFourier | None = None):
        super().__init__(operator)
        if not (init_lambda > 0) or not math.isfinite(init_lambda):
            raise UsageError(f"soft DC init_lambda must be a finite number > 0, got {init_lambda!r}")
        rho = torch.tensor(float(init_lambda))
        rho = rho + torch.log(-torch.expm1(-rho))  # softplus^-1, stable for large values
        self.rho = nn.Parameter(rho, requires_grad=learnable)

    @property
    def lam(self) -> Tensor:
        return F.softplus(self.rho)

    @property
    def weight(self) -> Tensor:
        lam = self.lam
        return lam / (1 + lam)

    def combine_kspace(self, k_pred: Tensor, k_meas: Tensor, mask: Tensor) -> Tensor:
        return soft_dc_kspace(k_pred, k_meas, mask, self.weight.to(mask.dtype))


def make_dc(kind: str, init_lambda: float = 10.0, operator: MaskedFourier | None = None) -> DataConsistency:
    """``"hard"`` -> ``HardDataConsistency(operator)``; ``"soft"`` -> ``SoftDataConsistency(init_lambda)``."""
    if kind == "hard":
        return HardDataConsistency(operator)
    if kind == "soft":
        return SoftDataConsistency(init_lambda, operator=operator)
    raise UsageError(f"unknown data-consistency kind {kind!r}; choose 'hard' or 'soft'")
