"""An intensity map between two contrasts fitted without pairs: foreground quantile matching,
with its polarity chosen by patch statistics.

Two unpaired image sets fix each contrast's intensity distribution, not which way the map
runs: T1 -> T2 inverts (white matter bright -> dark), T1 -> T1sim does not. Both monotone maps
that carry A's tissue distribution onto B's -- increasing ``F_B^-1(F_A(x))`` and
decreasing ``F_B^-1(1 - F_A(x))`` -- match the histograms exactly, so the choice is made one
level up: the polarity whose mapped A images have **patches** distributed most like B's
(sliced Wasserstein distance between random foreground 5x5 patches less their mean -- local
structure: thin bright lines on a dark ground or the reverse --, a fixed seed). Zero (no
signal, e.g. outside a brain mask) maps to zero. The patch statistics decide weakly: on the
built-in brain they pick the right map for T1 -> T2 (decreasing) and T1 -> T1sim (increasing)
but the wrong one for T1 -> PD (docs/tasks/translation.md); ``model.quantile_polarity``
overrides the choice.

All of it uses the two domains' training images separately, never an aligned pair.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

PATCH = 5  # side of the patches compared
N_PATCHES = 4000
N_PROJECTIONS = 64


def foreground_quantiles(images: Sequence[np.ndarray], n: int, floor: float = 0.1) -> np.ndarray:
    """``(n,)`` evenly spaced quantiles of the tissue pixels of ``images``: above ``floor`` times
    their maximum (10 %: the usual background cut-off; it leaves out the dim rim where one
    contrast shows partial-volume signal and the other none)."""
    pooled = np.concatenate([np.asarray(im, dtype=np.float64).reshape(-1) for im in images])
    pooled = pooled[pooled > max(0.0, floor * float(pooled.max()))]
    if pooled.size == 0:
        raise ValueError("no foreground pixels to fit the quantile map on")
    return np.quantile(pooled, np.linspace(0.0, 1.0, n))


def interp(x: Tensor, xp: Tensor, fp: Tensor) -> Tensor:
    """``np.interp`` in torch (``xp`` increasing, constant beyond the ends), differentiable in ``x``."""
    n = xp.numel()
    idx = torch.searchsorted(xp, x.detach().contiguous()).clamp(1, n - 1)
    x0, x1, y0, y1 = xp[idx - 1], xp[idx], fp[idx - 1], fp[idx]
    t = ((x - x0) / (x1 - x0).clamp_min(1e-12)).clamp(0, 1)
    return y0 + t * (y1 - y0)


def apply_map(x: Tensor, source_q: Tensor, target_q: Tensor, polarity: float) -> Tensor:
    """``(N, C, H, W)`` source intensities mapped onto the target's quantiles; 0 stays 0."""
    levels = torch.linspace(0, 1, source_q.numel(), dtype=x.dtype, device=x.device)
    u = interp(x, source_q.to(x.dtype), levels)
    if polarity < 0:
        u = 1 - u
    return interp(u, levels, target_q.to(x.dtype)) * (x > 0).to(x.dtype)


def random_patches(images: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, PATCH * PATCH)`` random patches of ``(1, H, W)`` images whose centre is foreground,
    each less its mean."""
    out = []
    per_image = max(1, n // len(images) + 1)
    r = PATCH // 2
    for im in images:
        plane = np.asarray(im)[0]
        ys, xs = np.nonzero(plane[r:-r, r:-r] > 0)
        if ys.size == 0:
            continue
        pick = rng.integers(0, ys.size, per_image)
        for y, x in zip(ys[pick], xs[pick], strict=True):
            out.append(plane[y:y + PATCH, x:x + PATCH].reshape(-1))
    if not out:
        raise ValueError("no foreground patches to choose the map's polarity with")
    patches = np.stack(out)
    patches = patches[rng.permutation(len(patches))[:n]]
    return patches - patches.mean(axis=1, keepdims=True)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> float:
    """Sliced 2-Wasserstein distance between two point sets ``(n, d)`` (``N_PROJECTIONS`` directions)."""
    directions = rng.standard_normal((a.shape[1], N_PROJECTIONS))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    m = min(len(a), len(b))
    pa, pb = np.sort(a[:m] @ directions, axis=0), np.sort(b[:m] @ directions, axis=0)
    return float(np.sqrt(np.mean((pa - pb) ** 2)))


def fit_quantile_map(domain_a: Sequence[np.ndarray], domain_b: Sequence[np.ndarray], n: int = 2048,
                     seed: int = 0, polarity: str = "auto",
                     floor: float = 0.1) -> tuple[np.ndarray, np.ndarray, float, dict[str, float]]:
    """``(quantiles of A, quantiles of B, polarity +1/-1, patch distance per polarity)`` of two
    unpaired sets of ``(1, H, W)`` images in [0, 1]; ``polarity`` ``auto`` (by patch statistics),
    ``increasing`` or ``decreasing``; ``floor``: see :func:`foreground_quantiles`."""
    qa, qb = foreground_quantiles(domain_a, n, floor), foreground_quantiles(domain_b, n, floor)
    if polarity != "auto":
        return qa, qb, 1.0 if polarity == "increasing" else -1.0, {}
    rng = np.random.default_rng(seed)
    real = random_patches(domain_b, N_PATCHES, rng)
    distances = {}
    for name, candidate in (("increasing", 1.0), ("decreasing", -1.0)):
        mapped = [apply_map(torch.from_numpy(np.asarray(im, dtype=np.float64))[None], torch.from_numpy(qa),
                            torch.from_numpy(qb), candidate)[0].numpy() for im in domain_a]
        fake = random_patches(mapped, N_PATCHES, np.random.default_rng(seed + 1))
        distances[name] = sliced_wasserstein(
            fake, real, np.random.default_rng(seed + 2))
    sign = 1.0 if distances["increasing"] <= distances["decreasing"] else -1.0
    return qa, qb, sign, distances
