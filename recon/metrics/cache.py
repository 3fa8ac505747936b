"""On-disk cache of reference feature statistics for FID/KID.

An entry holds mu ``(D,)``, sigma ``(D, D)`` and the raw features ``(N, D)`` (KID needs
them), keyed by a hash of the data and of the weights + preprocessing
(:attr:`InceptionFeatureExtractor.weights_id`), so a change of either never reuses stale
statistics. Entries are ``<key>.npz`` files written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recon.errors import UsageError
from recon.metrics.frechet import feature_stats


@dataclass(frozen=True)
class FeatureStats:
    """Gaussian statistics of a feature set, with the features themselves.

    Attributes:
        mu: ``(D,)`` mean. sigma: ``(D, D)`` covariance (N - 1). features: ``(N, D)``.
    """

    mu: np.ndarray
    sigma: np.ndarray
    features: np.ndarray

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.features.shape[0])

    @classmethod
    def from_features(cls, features: Any) -> FeatureStats:
        """Fit mean and covariance to ``(N, D)`` features (N >= 2)."""
        mu, sigma = feature_stats(features)
        return cls(mu=mu, sigma=sigma, features=np.asarray(features, dtype=np.float64))


def hash_data(data: Any) -> str:
    """SHA-256 of the data: arrays/tensors (dtype, shape, bytes), str, bytes, or a
    sequence of those (e.g. file names with sizes). Returns 64 hex digits."""
    digest = hashlib.sha256()
    _update(digest, data)
    return digest.hexdigest()


def _update(digest: hashlib._Hash, data: Any) -> None:
    if hasattr(data, "detach") and hasattr(data, "cpu"):
        data = data.detach().cpu().numpy()
    if isinstance(data, np.ndarray):
        arr = np.ascontiguousarray(data)
        digest.update(f"nd:{arr.dtype.str}:{arr.shape}".encode())
        digest.update(arr.tobytes())
    elif isinstance(data, str):
        digest.update(b"s:" + data.encode())
    elif isinstance(data, bytes):
        digest.update(b"b:" + data)
    elif isinstance(data, (list, tuple)):
        digest.update(f"seq:{len(data)}".encode())
        for item in data:
            _update(digest, item)
    elif data is None or isinstance(data, (bool, int, float)):
        digest.update(f"r:{data!r}".encode())
    else:
        raise UsageError(f"cannot hash {type(data).__name__} data; pass data_id= (e.g. a hash "
                         f"of the file list)")


class FeatureStatsCache:
    """Reference statistics cached under ``cache_dir``.

    Example::

        cache = FeatureStatsCache("~/.cache/recon/fid")
        ref = cache.get_or_compute(real_images, extractor)   # computes once, then loads
        fid = frechet_distance(ref.mu, ref.sigma, *feature_stats(fake_feats))
    """

    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.cache_dir = Path(cache_dir).expanduser()

    @staticmethod
    def key(data_id: str, weights_id: str) -> str:
        """File stem for (data hash, weights id): 32 hex digits."""
        return hashlib.sha256(f"{data_id}|{weights_id}".encode()).hexdigest()[:32]

    def path(self, data_id: str, weights_id: str) -> Path:
        return self.cache_dir / f"{self.key(data_id, weights_id)}.npz"

    def load(self, data_id: str, weights_id: str) -> FeatureStats | None:
        """The cached entry, or None (missing or unreadable)."""
        path = self.path(data_id, weights_id)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as npz:
                return FeatureStats(mu=npz["mu"], sigma=npz["sigma"], features=npz["features"])
        except (OSError, KeyError, ValueError):
            return None

    def save(self, data_id: str, weights_id: str, stats: FeatureStats) -> Path:
        """Write an entry atomically (temp file + rename) and return its path."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.path(data_id, weights_id)
        meta = json.dumps({"data_id": data_id, "weights_id": weights_id, "n": stats.n})
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, mu=stats.mu, sigma=stats.sigma, features=stats.features,
                         meta=np.array(meta))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    def get_or_compute(self, images: Any, extractor: Any, *, data_id: str | None = None,
                       compute: Callable[[], np.ndarray] | None = None) -> FeatureStats:
        """Load the statistics of ``images`` under ``extractor``'s weights, or compute and
        store them.

        Args:
            images: what the extractor accepts (array/tensor or iterable of batches).
            extractor: an :class:`InceptionFeatureExtractor` (uses ``weights_id``).
            data_id: identifies the data; default ``hash_data(images)`` (give one for
                iterables, e.g. a hash of the file list).
            compute: optional override returning ``(N, D)`` features.
        """
        if data_id is None:
            data_id = hash_data(images)
        cached = self.load(data_id, extractor.weights_id)
        if cached is not None:
            return cached
        features = compute() if compute is not None else extractor(images)[0]
        stats = FeatureStats.from_features(features)
        self.save(data_id, extractor.weights_id, stats)
        return stats
