"""Coil sensitivity maps estimated from the auto-calibration (fully sampled centre) region.

Real multi-coil k-space (fastMRI) comes without coil maps, but the cascade's data consistency
and the SENSE combination need them. The estimate is the classic low-resolution one (the
initialisation of E2E-VarNet's sensitivity network, Sriram et al. 2020, and of fastMRI's
``SensitivityModel``): keep only the contiguous sampled centre of k-space, transform each
coil to the image domain, divide by the root-sum-of-squares over coils, so
``sum_c |S_c|^2 = 1``. (ESPIRiT would be more accurate near the object's edge but needs an
eigen-decomposition per pixel; MONAI's ``CoilSensitivityModel`` learns the refinement and is
used by the ``varnet`` generator.)
"""

from __future__ import annotations

import torch
from torch import Tensor

from recon.api import UsageError
from recon.api import MaskedFourier, normalize_maps

__all__ = ["centre_run", "calibration_mask", "estimate_maps"]


def centre_run(sampled: Tensor) -> tuple[int, int]:
    """The half-open range ``[lo, hi)`` of the contiguous sampled run through index ``n // 2``
    of a 1-D bool tensor (``(n // 2, n // 2)`` when the centre is not sampled)."""
    n = int(sampled.numel())
    centre = n // 2
    if not bool(sampled[centre]):
        return centre, centre
    lo, hi = centre, centre + 1
    while lo > 0 and bool(sampled[lo - 1]):
        lo -= 1
    while hi < n and bool(sampled[hi]):
        hi += 1
    return lo, hi


def calibration_mask(mask: Tensor, shape: tuple[int, int]) -> Tensor:
    """Bool ``(H, W)``: the fully sampled centre box of a mask ``(H|1, W)`` (nonzero = sampled)."""
    h, w = shape
    m = (mask != 0).reshape(-1, mask.shape[-1])
    if m.shape[-1] != w or m.shape[0] not in (1, h):
        raise UsageError(f"mask shape {tuple(mask.shape)} does not match k-space ({h}, {w})")
    c0, c1 = centre_run(m[m.shape[0] // 2] if m.shape[0] > 1 else m[0])
    r0, r1 = centre_run(m[:, w // 2]) if m.shape[0] > 1 else (0, h)
    if c1 - c0 < 1 or r1 - r0 < 1:
        raise UsageError("coil maps cannot be estimated: the mask does not sample the k-space centre "
                         "(set mask.center_fraction > 0)")
    box = torch.zeros(h, w, dtype=torch.bool, device=mask.device)
    box[r0:r1, c0:c1] = True
    return box


def estimate_maps(kspace: Tensor, mask: Tensor, eps: float = 1e-12) -> Tensor:
    """Coil maps ``(..., C, H, W)`` from measured k-space ``(..., C, H, W)`` and its mask ``(H|1, W)``.

    ``sum_c |S_c|^2 = 1`` wherever the low-resolution coil images are not all zero.
    """
    if not torch.is_complex(kspace) or kspace.ndim < 3:
        raise UsageError(f"coil-map estimation needs complex k-space (..., C, H, W), got {tuple(kspace.shape)}")
    box = calibration_mask(mask, (kspace.shape[-2], kspace.shape[-1]))
    low = MaskedFourier.coil_images(kspace * box.to(kspace.real.dtype))
    return normalize_maps(low, eps)
