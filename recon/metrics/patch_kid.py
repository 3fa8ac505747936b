"""Patch KID / FID: a distribution metric for paired tasks (``kid_patch``, ``fid_patch``).

A paired test split has tens of images, far too few for FID. Cutting each output and its
target into many fixed crops gives a few hundred samples per set; their InceptionV3 pool3
features are compared with KID (unbiased, the primary number) and FID (biased at these
sizes, reported for completeness). The crops are the *same* for every method and for the
targets, so the sets differ only in how each method renders the same content.

Pinned convention (recorded in eval.json's ``conventions``):

- crops of ``size`` x ``size`` pixels (default 64), ``count`` of them (default 200);
- crop ``j`` comes from image ``j mod n`` (images in evaluation order, those smaller than a
  crop left out), its top-left corner uniform over the valid positions, drawn with
  ``numpy.random.default_rng(seed)`` (default seed 0); a position already taken, or a crop
  whose *target* has a standard deviation below 0.01 (flat background), is redrawn up to
  10 times; no crop is used twice, so a split of few small images gives fewer crops;
- features: :class:`~recon.metrics.InceptionFeatureExtractor` (8-bit quantised, gray
  repeated to 3 channels, bilinear resize to 299);
- ``kid_patch``: the unbiased MMD^2 U-statistic of Gretton et al. (JMLR 2012, eq. 3) with
  KID's cubic polynomial kernel k(a, b) = (a.b / d + 1)^3 over all crops:
  ``1 / (m (m - 1)) sum_{i != j} k(x_i, x_j) + k(y_i, y_j) - k(x_i, y_j) - k(x_j, y_i)``.
  Crop ``i`` of the output and crop ``i`` of the target show the same content, so the
  cross terms with ``i = j`` (which the KID code of Binkowski et al. keeps, assuming
  independent sets) are left out: they would reward copying the target pixel by pixel
  instead of measuring the distance between the two distributions. Identical sets score 0;
  the estimate can be slightly negative;
- ``kid_patch_std``: the standard deviation of the same estimate over 100 random halves
  of the crops (the same indices in both sets, seed 0);
- ``fid_patch``: the Fréchet distance of the two crop sets (biased upwards at a few hundred
  samples of 2048-d features, which is why KID is the primary number).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from recon.errors import UsageError
from recon.metrics.frechet import fid_from_features

PATCH_SIZE = 64
PATCH_COUNT = 200
PATCH_SEED = 0
FLAT_STD = 0.01
REDRAWS = 10


def describe_patches(size: int, count: int, seed: int, weights: str, used: int | None = None) -> str:
    """The one-line convention written into eval.json (``used``: the distinct crops drawn)."""
    drawn = f" ({used} distinct crops drawn)" if used is not None and used != count else ""
    return (f"{count} crops{drawn} of {size}x{size} px, crop j from image j mod n, top-left uniform "
            f"(numpy default_rng({seed})), a position already taken or a crop whose target std < {FLAT_STD} "
            f"redrawn up to {REDRAWS} times; the same crops for every method and the target; "
            f"InceptionV3 pool3 ({weights}), "
            "8-bit, gray repeated to 3, resized to 299; kid_patch = unbiased MMD^2 U-statistic (Gretton "
            "2012 eq. 3, cubic kernel (a.b/d+1)^3, paired i=j cross terms left out) over all crops, "
            "kid_patch_std over 100 random halves (seed 0), fid_patch = Frechet distance")


def patch_boxes(targets: Sequence[np.ndarray], size: int = PATCH_SIZE, count: int = PATCH_COUNT,
                seed: int = PATCH_SEED) -> list[tuple[int, int, int]]:
    """Crop positions ``(image index, top, left)`` for up to ``count`` distinct crops of the targets.

    Crop ``j`` is drawn in image ``j mod n``; a position already taken or a flat target crop
    (std < ``FLAT_STD``) is redrawn up to ``REDRAWS`` times; a crop still taken after that
    is dropped (an image no larger than a crop gives one crop), a flat one is kept.

    Args:
        targets: ``(C, H, W)`` arrays in evaluation order.

    Returns:
        At most ``count`` boxes, none twice; ``[]`` when no target is at least ``size`` x ``size``.
    """
    if size < 1 or count < 2:
        raise UsageError(f"patch metrics need size >= 1 and count >= 2, got {size}, {count}")
    usable = [i for i, t in enumerate(targets) if min(t.shape[-2:]) >= size]
    if not usable:
        return []
    rng = np.random.default_rng(seed)
    boxes: list[tuple[int, int, int]] = []
    taken: set[tuple[int, int, int]] = set()
    for j in range(count):
        index = usable[j % len(usable)]
        h, w = targets[index].shape[-2:]
        box = None
        for _ in range(REDRAWS + 1):
            top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
            if (index, top, left) in taken:
                continue
            box = (index, top, left)
            if targets[index][..., top:top + size, left:left + size].std() >= FLAT_STD:
                break
        if box is not None:
            boxes.append(box)
            taken.add(box)
    return boxes


def crop(images: Sequence[np.ndarray], boxes: Sequence[tuple[int, int, int]], size: int) -> torch.Tensor:
    """The crops ``(count, C, size, size)`` (float32) of ``images`` at ``boxes``."""
    return torch.from_numpy(np.stack([images[i][..., top:top + size, left:left + size] for i, top, left in boxes])
                            .astype(np.float32))


def mmd2_u(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 U-statistic of paired samples ``(m, d)``, cubic polynomial kernel."""
    m, d = x.shape
    if y.shape != x.shape or m < 2:
        raise UsageError(f"mmd2_u needs two (m, d) feature sets with m >= 2, got {x.shape} and {y.shape}")

    def off_diagonal_sum(a: np.ndarray, b: np.ndarray) -> float:
        k = (a @ b.T / d + 1.0) ** 3
        return float(k.sum() - np.trace(k))
    return (off_diagonal_sum(x, x) + off_diagonal_sum(y, y) - 2.0 * off_diagonal_sum(x, y)) / (m * (m - 1))


def halves_std(x: np.ndarray, y: np.ndarray, subsets: int = 100, seed: int = 0) -> float:
    """Standard deviation of :func:`mmd2_u` over ``subsets`` random halves (same indices in both)."""
    rng = np.random.default_rng(seed)
    half = max(2, len(x) // 2)
    values = []
    for _ in range(subsets):
        index = rng.choice(len(x), half, replace=False)
        values.append(mmd2_u(x[index], y[index]))
    return float(np.std(values))


def patch_distribution(targets: Sequence[np.ndarray], predictions: dict[str, Sequence[np.ndarray]],
                       extractor: Any, *, size: int = PATCH_SIZE, count: int = PATCH_COUNT,
                       seed: int = PATCH_SEED,
                       boxes: list[tuple[int, int, int]] | None = None) -> dict[str, dict[str, float]]:
    """``{method: {"kid_patch", "kid_patch_std", "fid_patch"}}`` against the target crops.

    Args:
        targets: ``(C, H, W)`` arrays in [0, 1], in evaluation order.
        predictions: per method, arrays of the same shapes in the same order.
        extractor: an :class:`~recon.metrics.InceptionFeatureExtractor` (or any callable
            ``images -> (features (N, D), logits)``).

        boxes: the crops (default :func:`patch_boxes` of the targets with ``size``, ``count``, ``seed``).

    Returns:
        ``{}`` when no image holds a whole crop (or fewer than 2 crops).
    """
    boxes = patch_boxes(targets, size, count, seed) if boxes is None else boxes
    if len(boxes) < 2:
        return {}
    real, _ = extractor(crop(targets, boxes, size))
    out = {}
    for name, images in predictions.items():
        if len(images) != len(targets):
            raise UsageError(f"{name}: {len(images)} predictions for {len(targets)} targets")
        fake, _ = extractor(crop(images, boxes, size))
        out[name] = {"kid_patch": mmd2_u(fake, real), "kid_patch_std": halves_std(fake, real),
                     "fid_patch": fid_from_features(fake, real)}
    return out
