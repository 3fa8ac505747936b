"""FID and KID per class of a conditional generator: each class's samples against that class's reals.

Keys (flat, beside the overall ``fid`` / ``kid`` of the same row)::

    fid_class_<name>, kid_class_<name>, kid_class_<name>_std

``<name>`` is the class's name as given (e.g. ``t1``). A class whose samples or real images
number fewer than 2 has no keys; :func:`class_scores` says why instead ("not computed: ...").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recon.metrics.frechet import fid_from_features, kid

__all__ = ["ClassScores", "class_key", "class_scores"]


def class_key(metric: str, name: str) -> str:
    """The key of ``metric`` (``fid``, ``kid``, ``kid_std``) restricted to class ``name``:
    ``fid_class_t1``, ``kid_class_t1``, ``kid_class_t1_std`` (spreads keep their ``_std`` suffix)."""
    if metric.endswith("_std"):
        return f"{metric[:-4]}_class_{name}_std"
    return f"{metric}_class_{name}"


@dataclass
class ClassScores:
    """Per-class figures of one row.

    Attributes:
        metrics: ``{class_key(metric, name): value}`` of every class that could be scored.
        n_fake: number of samples of each class, by name.
        n_real: number of real images of each class, by name.
        not_computed: why a class has no figures, by name (``"not computed: ..."``).
    """

    metrics: dict[str, float] = field(default_factory=dict)
    n_fake: dict[str, int] = field(default_factory=dict)
    n_real: dict[str, int] = field(default_factory=dict)
    not_computed: dict[str, str] = field(default_factory=dict)


def class_scores(real: np.ndarray, real_labels: np.ndarray, fake: np.ndarray, fake_labels: np.ndarray,
                 names: list[str], *, subsets: int, subset_size: int, seed: int = 0,
                 split: str = "evaluation") -> ClassScores:
    """FID and KID of each class ``c``: the rows of ``fake`` labelled ``c`` against those of ``real``.

    Args:
        real: ``(N, D)`` features of the real images (e.g. Inception pool3, ``D = 2048``).
        real_labels: ``(N,)`` class index of each real image.
        fake: ``(M, D)`` features of the generated samples.
        fake_labels: ``(M,)`` class index each sample was drawn with.
        names: class names, index = class id.
        subsets, subset_size, seed: KID's, as :func:`recon.metrics.kid` (each class's subsets
            hold ``min(subset_size, n_fake_c, n_real_c)`` rows).
        split: the reals' split, for the messages.

    Returns:
        :class:`ClassScores`; a class with fewer than 2 samples or 2 real images is in
        ``not_computed`` (FID's covariance and KID's unbiased MMD need 2 rows a side).
    """
    out = ClassScores()
    real_labels, fake_labels = np.asarray(real_labels), np.asarray(fake_labels)
    for index, name in enumerate(names):
        r, f = real[real_labels == index], fake[fake_labels == index]
        out.n_real[name], out.n_fake[name] = int(r.shape[0]), int(f.shape[0])
        if r.shape[0] < 2:
            out.not_computed[name] = (f"not computed: FID/KID need at least 2 real images of class {name}, "
                                      f"the {split} split has {r.shape[0]}")
            continue
        if f.shape[0] < 2:
            out.not_computed[name] = (f"not computed: FID/KID need at least 2 samples of class {name}, "
                                      f"{f.shape[0]} drawn (raise the number of samples to at least "
                                      f"2 x {len(names)} classes)")
            continue
        out.metrics[class_key("fid", name)] = fid_from_features(r, f)
        value, spread = kid(r, f, subsets=subsets, subset_size=subset_size, seed=seed)
        out.metrics[class_key("kid", name)], out.metrics[class_key("kid_std", name)] = value, spread
    return out
