"""FID / KID / IS against closed forms and direct computations; the stats cache."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.linalg

from recon.errors import UsageError
from recon.metrics import (
    FeatureStatsCache,
    feature_stats,
    fid_from_features,
    frechet_distance,
    hash_data,
    inception_score,
    kid,
)


def _sqrtm_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The pytorch-fid formula with scipy.linalg.sqrtm (independent reference)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


# ---------------------------------------------------------------- Fréchet distance / FID

def test_frechet_closed_form_diagonal_gaussians() -> None:
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    v1, v2 = rng.uniform(0.1, 3, 8), rng.uniform(0.1, 3, 8)
    expected = ((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()
    got = frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_frechet_identical_and_rotated() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 6))
    sigma = np.cov(a, rowvar=False)
    assert frechet_distance(a.mean(0), sigma, a.mean(0), sigma) == pytest.approx(0.0, abs=1e-9)
    # a rotation of both distributions leaves the distance unchanged
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    s2 = np.diag(rng.uniform(0.5, 2, 6))
    d = frechet_distance(np.zeros(6), sigma, np.ones(6), s2)
    d_rot = frechet_distance(np.zeros(6), q @ sigma @ q.T, q @ np.ones(6), q @ s2 @ q.T)
    assert d_rot == pytest.approx(d, rel=1e-10)


def test_fid_matches_scipy_sqrtm_reference() -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(size=(400, 32))
    b = rng.normal(size=(300, 32)) @ rng.normal(0, 0.4, (32, 32)) + 0.3
    assert fid_from_features(a, b) == pytest.approx(_sqrtm_fid(a, b), rel=1e-8)


def test_fid_rank_deficient_is_finite_and_zero_on_self() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(10, 64)), rng.normal(size=(12, 64))  # N < D: singular covariances
    value = fid_from_features(a, b)
    assert np.isfinite(value) and value > 0
    assert fid_from_features(a, a) == pytest.approx(0.0, abs=1e-8)
    # the features path (nuclear norm of A B^T) and the covariance path agree
    via_stats = frechet_distance(*feature_stats(a), *feature_stats(b))
    assert value == pytest.approx(via_stats, rel=1e-6)


def test_frechet_singular_covariance_uses_psd_root() -> None:
    """Cholesky fails on a singular sigma1; the eigh fallback gives the closed form."""
    v1, v2 = np.array([2.0, 0.0, 1.0]), np.array([1.0, 3.0, 0.5])
    expected = (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()
    got = frechet_distance(np.zeros(3), np.diag(v1), np.zeros(3), np.diag(v2))
    assert got == pytest.approx(expected)


def test_feature_stats() -> None:
    feats = np.random.default_rng(4).normal(size=(20, 3))
    mu, sigma = feature_stats(feats)
    np.testing.assert_allclose(mu, feats.mean(0))
    np.testing.assert_allclose(sigma, np.cov(feats.T))


# ---------------------------------------------------------------- KID

def _mmd2_direct(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 by explicit loops over pairs, k(a, b) = (a.b / d + 1)^3."""
    d = x.shape[1]

    def k(u: np.ndarray, v: np.ndarray) -> float:
        return (float(u @ v) / d + 1.0) ** 3

    m, n = len(x), len(y)
    kxx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(n), 2)) / (n * (n - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return kxx + kyy - 2 * kxy


def test_kid_full_subsets_equal_direct_mmd() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(20, 5)), rng.normal(0.5, 1.0, size=(20, 5))
    mean, std = kid(a, b, subsets=3, subset_size=1000)  # clipped to 20: whole sets
    assert mean == pytest.approx(_mmd2_direct(a, b), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_kid_subsets_match_direct_computation() -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(30, 4)), rng.normal(0.3, 1.2, size=(25, 4))
    mean, std = kid(a, b, subsets=5, subset_size=12, seed=7)
    draw = np.random.default_rng(7)  # the documented sampling: a's rows, then b's, per subset
    values = []
    for _ in range(5):
        ia = draw.choice(30, 12, replace=False)
        ib = draw.choice(25, 12, replace=False)
        values.append(_mmd2_direct(a[ia], b[ib]))
    assert mean == pytest.approx(np.mean(values), rel=1e-10)
    assert std == pytest.approx(np.std(values), rel=1e-8)


def test_kid_same_distribution_near_zero() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    near, _ = kid(a, b, subsets=20, subset_size=100)
    far, _ = kid(a, b + 1.0, subsets=20, subset_size=100)
    assert abs(near) < 0.05 < far


# ---------------------------------------------------------------- Inception Score

def test_inception_score_uniform_is_one() -> None:
    assert inception_score(np.zeros((50, 1008)), splits=10) == pytest.approx((1.0, 0.0), abs=1e-12)


def test_inception_score_one_hot_is_n_classes() -> None:
    n_classes = 10
    logits = 100.0 * np.eye(n_classes)[np.arange(200) % n_classes]
    mean, std = inception_score(logits, splits=10)
    assert mean == pytest.approx(n_classes, rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_matches_formula() -> None:
    logits = np.random.default_rng(9).normal(0, 3, (60, 7))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    scores = []
    for part in np.split(p, 3):
        py = part.mean(0)
        scores.append(np.exp(np.mean(np.sum(part * (np.log(part) - np.log(py)), axis=1))))
    assert inception_score(logits, splits=3) == pytest.approx((np.mean(scores), np.std(scores)))


# ---------------------------------------------------------------- cache

class _FakeExtractor:
    """Stands in for InceptionFeatureExtractor: features = flattened images."""

    def __init__(self, weights_id: str = "fake:0") -> None:
        self.weights_id = weights_id
        self.calls = 0

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, None]:
        self.calls += 1
        return np.asarray(images, float).reshape(len(images), -1), None


def test_feature_stats_cache_roundtrip(tmp_path) -> None:
    images = np.random.default_rng(10).random((6, 1, 2, 2))
    cache, extractor = FeatureStatsCache(tmp_path), _FakeExtractor()
    first = cache.get_or_compute(images, extractor)
    second = cache.get_or_compute(images, extractor)
    assert extractor.calls == 1
    np.testing.assert_array_equal(first.mu, second.mu)
    np.testing.assert_array_equal(first.sigma, second.sigma)
    np.testing.assert_array_equal(first.features, second.features)
    assert second.n == 6
    # other weights or other data -> another key, recomputed
    cache.get_or_compute(images, _FakeExtractor("fake:1"))
    cache.get_or_compute(images[:5], extractor)
    assert extractor.calls == 2
    assert len(list(tmp_path.glob("*.npz"))) == 3


def test_hash_data_sensitive_to_content_and_dtype() -> None:
    x = np.zeros((2, 3), np.float32)
    assert hash_data(x) == hash_data(x.copy())
    assert hash_data(x) != hash_data(x.astype(np.float64))
    y = x.copy()
    y[0, 0] = 1
    assert hash_data(x) != hash_data(y)
    assert hash_data(["a.png", 10]) != hash_data(["a.png", 11])
    with pytest.raises(UsageError, match="data_id"):
        hash_data(iter([x]))
