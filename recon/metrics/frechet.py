"""FID, KID and Inception Score from features / logits (no network here).

Features are ``(N, D)`` arrays or tensors (pool3: D = 2048); everything is computed in
float64 NumPy.

Fréchet distance: d^2 = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}).
The last trace is computed without ``scipy.linalg.sqrtm``: for any factor S1 = R R^T,
S1 S2 is similar to the symmetric PSD matrix M = R^T S2 R, so tr((S1 S2)^{1/2}) =
sum sqrt(eigvalsh(M)), with R the Cholesky factor (or the eigh square root when S1 is
singular) and eigenvalues clipped at 0. There is no imaginary part to discard
(pytorch-fid's ``sqrtm`` path has to drop one, and adds 1e-6 to the diagonals when the
product is singular), rank-deficient covariances (fewer samples than dimensions) are
handled exactly, and it is several times faster than ``sqrtm`` at D = 2048. It agrees
with the ``sqrtm`` formula where that one is well conditioned (see the tests). MONAI's
``FIDMetric`` is the ``sqrtm`` formula; it is not used for these reasons.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import log_softmax, logsumexp

from recon.errors import UsageError
from recon.metrics._inputs import as_features, check_finite, to_float64


def feature_stats(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` (N - 1 normalisation) of ``(N, D)`` features."""
    feats = as_features(features, "features", min_rows=2)
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix (negative eigenvalues clipped)."""
    w, v = np.linalg.eigh((sigma + sigma.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((S1 S2)^{1/2}) for symmetric PSD S1, S2.

    With any factor S1 = R R^T, S1 S2 is similar to the symmetric PSD R^T S2 R, so the
    trace is sum sqrt(eigvalsh(R^T S2 R)). R is the Cholesky factor when S1 is positive
    definite (fast), else the eigendecomposition square root (singular S1).
    """
    s1 = (sigma1 + sigma1.T) / 2.0
    try:
        root = np.linalg.cholesky(s1)
    except np.linalg.LinAlgError:
        root = _psd_sqrt(s1)
    m = root.T @ sigma2 @ root
    eig = np.linalg.eigvalsh((m + m.T) / 2.0)
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    Args:
        mu1, mu2: ``(D,)`` means. sigma1, sigma2: ``(D, D)`` covariances (symmetric PSD).

    Returns:
        d^2 >= 0 (a negative round-off residue is returned as 0).
    """
    m1, m2 = to_float64(mu1, "mu1").ravel(), to_float64(mu2, "mu2").ravel()
    s1 = np.atleast_2d(to_float64(sigma1, "sigma1"))
    s2 = np.atleast_2d(to_float64(sigma2, "sigma2"))
    d = m1.shape[0]
    if m2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise UsageError(f"Fréchet distance needs mu (D,) and sigma (D, D) of one D; got "
                         f"{m1.shape}, {s1.shape}, {m2.shape}, {s2.shape}")
    for arr, name in ((m1, "mu1"), (m2, "mu2"), (s1, "sigma1"), (s2, "sigma2")):
        check_finite(arr, name)
    diff = m1 - m2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt_product(s1, s2))
    return max(value, 0.0)


def fid_from_features(feats_a: Any, feats_b: Any) -> float:
    """FID between two sets of ``(N, D)`` features (e.g. real and generated pool3).

    Equals ``frechet_distance(*feature_stats(a), *feature_stats(b))``. When a set has fewer
    samples than dimensions the covariances are singular and tr((S1 S2)^{1/2}) is computed
    exactly from the centred features instead: with A = (a - mean) / sqrt(Na - 1) and B
    likewise, S1 = A^T A, S2 = B^T B and the trace is the nuclear norm of A B^T
    (``Na x Nb``, smaller than ``D x D``).
    """
    a = as_features(feats_a, "feats_a", min_rows=2)
    b = as_features(feats_b, "feats_b", min_rows=2)
    if a.shape[1] != b.shape[1]:
        raise UsageError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    if min(a.shape[0], b.shape[0]) >= a.shape[1]:
        return frechet_distance(*feature_stats(a), *feature_stats(b))
    ca = (a - a.mean(axis=0)) / math.sqrt(a.shape[0] - 1)
    cb = (b - b.mean(axis=0)) / math.sqrt(b.shape[0] - 1)
    diff = a.mean(axis=0) - b.mean(axis=0)
    trace_sqrt = float(np.linalg.svd(ca @ cb.T, compute_uv=False).sum())
    value = float(diff @ diff + (ca * ca).sum() + (cb * cb).sum() - 2.0 * trace_sqrt)
    return max(value, 0.0)


def _poly_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x.y / d + 1)^3 for all row pairs: ``(n, d), (m, d) -> (n, m)``."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel (diagonals of k(x,x), k(y,y) dropped)."""
    m = x.shape[0]
    kxx, kyy, kxy = _poly_kernel(x, x), _poly_kernel(y, y), _poly_kernel(x, y)
    off = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(off - 2.0 * kxy.sum() / (m * m))


def kid(feats_a: Any, feats_b: Any, *, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance: mean and std of unbiased MMD^2 over random subsets.

    Each subset draws ``min(subset_size, len(a), len(b))`` rows without replacement from
    each set (NumPy ``default_rng(seed)``); std is the population std over subsets.
    """
    a = as_features(feats_a, "feats_a", min_rows=2)
    b = as_features(feats_b, "feats_b", min_rows=2)
    if a.shape[1] != b.shape[1]:
        raise UsageError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    if subsets < 1 or subset_size < 2:
        raise UsageError(
            f"kid needs subsets >= 1 and subset_size >= 2, got {subsets}, {subset_size}")
    m = min(subset_size, a.shape[0], b.shape[0])
    rng = np.random.default_rng(seed)
    values = np.array([
        mmd2_unbiased(a[rng.choice(a.shape[0], m, replace=False)],
                      b[rng.choice(b.shape[0], m, replace=False)])
        for _ in range(subsets)
    ])
    return float(values.mean()), float(values.std())


def inception_score(logits: Any, splits: int = 10) -> tuple[float, float]:
    """Inception Score exp(E_x KL(p(y|x) || p(y))) per split: mean and std over splits.

    Args:
        logits: ``(N, K)`` classifier logits (softmax is applied here), N >= ``splits``.
        splits: contiguous splits ``[i N / splits, (i + 1) N / splits)`` as the original code.
    """
    z = as_features(logits, "logits")
    n = z.shape[0]
    if isinstance(splits, bool) or not isinstance(splits, int) or not 1 <= splits <= n:
        raise UsageError(f"inception_score needs 1 <= splits <= N = {n}, got {splits!r}")
    log_p = log_softmax(z, axis=1)
    scores = []
    for i in range(splits):
        part = log_p[i * n // splits:(i + 1) * n // splits]
        log_py = logsumexp(part, axis=0) - math.log(part.shape[0])  # log of the mean p(y|x)
        kl = (np.exp(part) * (part - log_py)).sum(axis=1).mean()
        scores.append(math.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))
