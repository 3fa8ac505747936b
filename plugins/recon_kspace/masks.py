"""Undersampling masks for k-space (fastMRI conventions): the mask policy of ``mri_kspace``.

The sampling itself (``apply_mask``, ``validate_mask``, the masked Fourier operator) is core's
:mod:`recon.physics.fourier`; the two functions are re-exported here.

Layout: k-space ``(..., H, W)`` with the DC at ``(H // 2, W // 2)`` (:mod:`recon.physics.fft`). Cartesian
masks sample whole phase-encode **columns** (the last dim, W, as in fastMRI) and are returned
as ``(1, W)`` bool tensors that broadcast over rows; 2D masks are ``(H, W)``.

Cartesian masks (fastMRI's ``subsample.py`` definitions, via MONAI's implementation):

* ``num_low = round(W * center_fraction)`` centre columns are always sampled, starting at
  column ``(W - num_low + 1) // 2``.
* ``random``: every other column is sampled independently with probability
  ``(W / acc - num_low) / (W - num_low)``, so the *expected* acceleration is ``acc``
  (fastMRI ``RandomMaskFunc`` = MONAI ``RandomKspaceMask``).
* ``equispaced``: columns ``round(offset + i * a')`` for ``i >= 0`` below ``W - 1``, with the
  spacing ``a' = acc (W - num_low) / (W - num_low * acc)`` adjusted for the centre, and a random
  ``offset`` in ``[0, round(a'))`` (fastMRI ``EquispacedMaskFractionFunc`` — the mask of the
  public multi-coil data — = MONAI ``EquispacedKspaceMask``). Not exactly equispaced after
  rounding (fastMRI issue #54); kept for compatibility.

Both are MONAI's own classes (``monai.apps.reconstruction.transforms.array``), seeded through
``set_random_state(seed)``; the same seed gives the same mask as fastMRI's ``MaskFunc(shape,
seed=seed)`` (the tests check both against the published formulas). Deviations, documented:
``acceleration == 1`` returns the fully sampled mask (fastMRI's equispaced formula skips the
last column there), and a centre that alone meets the budget (``round(W * cf) * acc >= W``) is
refused rather than silently producing a mask of the wrong acceleration.

``poisson`` is a 2D variable-density Poisson-disc mask (no MONAI/fastMRI equivalent): dart
throwing on the grid with a minimum distance growing linearly with the k-space radius, a fully
sampled ``round(H*cf) x round(W*cf)`` calibration box, and a bisection on the distance scale
until the achieved acceleration is within 2 % of the request (for ``3 <= acc <= 16`` at
128x128; below ~3x a disc of radius > 1 pixel cannot be that dense, and the closest reachable
mask is returned).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from recon.api import UsageError
from recon.api import apply_mask, validate_mask

__all__ = [
    "MASK_KINDS",
    "DEFAULT_CENTER_FRACTIONS",
    "default_center_fraction",
    "line_mask",
    "poisson_disc_mask",
    "make_mask",
    "achieved_acceleration",
    "validate_mask",
    "apply_mask",
]

MASK_KINDS = ("equispaced", "random", "poisson")
#: fastMRI's pairs: 4x keeps 8 % of the centre, 8x keeps 4 %.
DEFAULT_CENTER_FRACTIONS = {4: 0.08, 8: 0.04}


def default_center_fraction(acceleration: float) -> float:
    """fastMRI's centre fraction for ``acceleration`` (4 -> 0.08, 8 -> 0.04; else 0.32 / acc)."""
    _check_acceleration(acceleration)
    if float(acceleration) in DEFAULT_CENTER_FRACTIONS:
        return DEFAULT_CENTER_FRACTIONS[int(acceleration)]
    return min(0.32 / float(acceleration), 0.5)


def _check_acceleration(acceleration: float) -> float:
    try:
        acc = float(acceleration)
    except (TypeError, ValueError):
        raise UsageError(f"mask acceleration must be a number >= 1, got {acceleration!r}") from None
    if not math.isfinite(acc) or acc < 1:
        raise UsageError(f"mask acceleration must be >= 1 (1 = fully sampled), got {acceleration!r}")
    return acc


def _check_fraction(center_fraction: float) -> float:
    try:
        cf = float(center_fraction)
    except (TypeError, ValueError):
        raise UsageError(f"mask center_fraction must be a number in [0, 1], got {center_fraction!r}") from None
    if not (0.0 <= cf <= 1.0):
        raise UsageError(f"mask center_fraction must be in [0, 1], got {center_fraction!r}")
    return cf


def _shape2d(shape: Sequence[int]) -> tuple[int, int]:
    try:
        dims = tuple(int(s) for s in shape)
    except TypeError:
        raise UsageError(f"mask shape must be a sequence of ints (..., H, W), got {shape!r}") from None
    if len(dims) < 2 or dims[-1] < 1 or dims[-2] < 1:
        raise UsageError(f"mask shape must end in positive (H, W), got {shape!r}")
    return dims[-2], dims[-1]


def line_mask(
    kind: str, width: int, acceleration: float, center_fraction: float | None = None, seed: int | None = None
) -> Tensor:
    """Cartesian column mask, bool ``(W,)``. ``kind`` is ``"equispaced"`` or ``"random"``."""
    acc = _check_acceleration(acceleration)
    cf = _check_fraction(default_center_fraction(acc) if center_fraction is None else center_fraction)
    width = int(width)
    if width < 1:
        raise UsageError(f"mask width must be >= 1, got {width}")
    if acc == 1.0:
        return torch.ones(width, dtype=torch.bool)
    num_low = int(round(width * cf))
    if num_low * acc >= width:
        raise UsageError(
            f"mask center_fraction {cf} keeps {num_low} of {width} columns, already >= 1/{acc:g} of them; "
            f"lower center_fraction or acceleration"
        )
    # MONAI's masks are k-space transforms: we hand them a (1, W, 2) placeholder (real/imag
    # last, spatial_dims=1) and read the column mask they build; the FFT they run on it is O(W).
    from monai.apps.reconstruction.transforms.array import EquispacedKspaceMask, RandomKspaceMask

    classes: dict[str, type[EquispacedKspaceMask] | type[RandomKspaceMask]] = {
        "equispaced": EquispacedKspaceMask, "random": RandomKspaceMask}
    if kind not in classes:
        raise UsageError(f"unknown Cartesian mask kind {kind!r}; choose one of {sorted(classes)}")
    transform = classes[kind](center_fractions=[cf], accelerations=[acc], spatial_dims=1, is_complex=True)
    transform.set_random_state(seed=None if seed is None else int(seed) % (2**32))
    transform(torch.zeros(1, width, 2))
    mask = torch.as_tensor(transform.mask).reshape(-1) > 0.5
    if mask.numel() != width:  # defensive: MONAI's layout changed
        raise RuntimeError(f"MONAI {kind} mask has {mask.numel()} columns, expected {width}")
    return mask


def poisson_disc_mask(
    shape: Sequence[int],
    acceleration: float,
    center_fraction: float | None = None,
    seed: int | None = None,
    density_slope: float = 3.0,
    tolerance: float = 0.02,
) -> Tensor:
    """2D variable-density Poisson-disc mask, bool ``(H, W)``.

    The minimum distance between samples is ``r0 * (1 + density_slope * rho)`` pixels, ``rho``
    the normalised k-space radius in [0, 1] (0 at the centre, 1 at the corners); ``r0`` is
    bisected until ``H * W / n_sampled`` is within ``tolerance`` of ``acceleration`` (or the
    closest reachable value). The same ``seed`` always gives the same mask.
    """
    h, w = _shape2d(shape)
    acc = _check_acceleration(acceleration)
    cf = _check_fraction(default_center_fraction(acc) if center_fraction is None else center_fraction)
    if acc == 1.0:
        return torch.ones(h, w, dtype=torch.bool)
    ch, cw = int(round(h * cf)), int(round(w * cf))
    calib = np.zeros((h, w), dtype=bool)
    r0_, c0_ = (h - ch + 1) // 2, (w - cw + 1) // 2
    calib[r0_ : r0_ + ch, c0_ : c0_ + cw] = True
    budget = h * w / acc
    if calib.sum() >= budget:
        raise UsageError(
            f"mask center_fraction {cf} gives a {ch}x{cw} calibration box, already >= 1/{acc:g} of k-space; "
            f"lower center_fraction or acceleration"
        )
    rng = np.random.default_rng(None if seed is None else int(seed) % (2**63))
    order = rng.permutation(h * w)
    yy, xx = np.meshgrid(np.arange(h) - h // 2, np.arange(w) - w // 2, indexing="ij")
    rho = np.sqrt((yy / max(h / 2, 1)) ** 2 + (xx / max(w / 2, 1)) ** 2) / math.sqrt(2)
    shape_fn = 1.0 + float(density_slope) * rho

    def throw(r0: float) -> np.ndarray:
        radius = r0 * shape_fn
        blocked = np.zeros((h, w), dtype=bool)
        out = calib.copy()
        for idx in order:
            i, j = divmod(int(idx), w)
            if blocked[i, j]:
                continue
            out[i, j] = True
            r = radius[i, j]
            ri = int(math.ceil(r)) - 1
            if ri < 1:
                continue
            i0, i1, j0, j1 = max(i - ri, 0), min(i + ri + 1, h), max(j - ri, 0), min(j + ri + 1, w)
            di = np.arange(i0, i1)[:, None] - i
            dj = np.arange(j0, j1)[None, :] - j
            blocked[i0:i1, j0:j1] |= di * di + dj * dj < r * r
        return out

    # achieved acceleration grows with r0; bisect in log space.
    lo, hi = 0.5, 2.0 * math.sqrt(acc) + 2.0
    best, best_err = None, math.inf
    for _ in range(30):
        mid = math.sqrt(lo * hi)
        m = throw(mid)
        got = h * w / m.sum()
        err = abs(got - acc) / acc
        if err < best_err:
            best, best_err = m, err
        if err <= tolerance:
            break
        if got < acc:
            lo = mid
        else:
            hi = mid
    return torch.from_numpy(best)


def make_mask(
    kind: str,
    shape: Sequence[int],
    acceleration: float,
    center_fraction: float | None = None,
    seed: int | None = None,
) -> Tensor:
    """Undersampling mask for k-space of shape ``(..., H, W)``.

    Returns a bool tensor: ``(1, W)`` for ``equispaced``/``random`` (broadcasts over rows),
    ``(H, W)`` for ``poisson``. ``center_fraction=None`` uses fastMRI's default for the
    acceleration (4x -> 0.08, 8x -> 0.04). Deterministic for a given ``seed``.
    """
    h, w = _shape2d(shape)
    if kind in ("equispaced", "random"):
        return line_mask(kind, w, acceleration, center_fraction, seed).reshape(1, w)
    if kind == "poisson":
        return poisson_disc_mask((h, w), acceleration, center_fraction, seed)
    raise UsageError(f"unknown mask kind {kind!r}; choose one of {', '.join(MASK_KINDS)}")


def achieved_acceleration(mask: Tensor) -> float:
    """``(#k-space locations) / (#sampled)`` of a mask whose last two dims are ``(H|1, W)``."""
    m = torch.as_tensor(mask)
    n = int((m != 0).sum())
    if n == 0:
        raise UsageError("mask samples nothing (all zeros)")
    return m.numel() / n
