"""FID / KID / IS of an unconditional generator against the real images of a split.

The model (the EMA generator during training, the checkpoint's EMA weights in ``recon
eval``), any compared checkpoint and the baselines are each scored with ``n`` samples
(``eval.n_samples`` on the test split, ``eval.val_samples`` on the validation split), all
against the same real images, with :mod:`recon.metrics` (InceptionV3 pool3 features). Rows:

* ``gaussian``: the classical baseline, a Gaussian fitted to the training images
  (:class:`recon_stylegan2.baseline.GaussianImageModel`);
* ``training images``: up to ``n`` real training images scored as if generated: the
  score of a model that memorised the training set, i.e. the floor FID/KID reach with this
  few real images (left out when train and evaluation images coincide).

Features of fixed image sets (the reals, the baseline's seeded samples) are cached by
content hash (:class:`recon.metrics.FeatureStatsCache` under the recon cache directory,
plus an in-process memo), so validation during training only pays for the new samples.
Without Inception weights (or with ``eval.fid=false``) nothing is computed and
``conventions["fid"]`` says why; random weights are never used.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from recon_stylegan2.baseline import GaussianImageModel
from recon_stylegan2.data import split_images
from recon_stylegan2.sampling import generate_samples
from recon.api import RunConfig

__all__ = ["evaluate_generative"]

_MEMO: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray | None]] = OrderedDict()


def _features(extractor: Any, images: Tensor) -> tuple[np.ndarray, np.ndarray | None]:
    """Pool3 features (and logits) of a fixed image set, through the memo and the disk cache."""
    from recon.api import cache_root
    from recon.api import FeatureStats, FeatureStatsCache, hash_data

    key = (hash_data(images), extractor.weights_id)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    cache = FeatureStatsCache(cache_root() / "fid")
    stats = cache.load(*key) if not extractor.has_logits else None  # logits are not cached on disk
    if stats is not None:
        value: tuple[np.ndarray, np.ndarray | None] = (stats.features, None)
    else:
        value = extractor(images)
        try:
            cache.save(*key, FeatureStats.from_features(value[0]))
        except OSError:  # an unwritable cache only costs time
            pass
    _MEMO[key] = value
    while len(_MEMO) > 16:
        _MEMO.popitem(last=False)
    return value


def _scores(real: np.ndarray, fake: np.ndarray, logits: np.ndarray | None, ev: Any) -> dict[str, float]:
    from recon.api import fid_from_features, inception_score, kid

    out = {"fid": fid_from_features(real, fake)}
    out["kid"], out["kid_std"] = kid(real, fake, subsets=ev.kid_subsets, subset_size=ev.kid_subset_size, seed=0)
    if logits is not None:
        out["is"], out["is_std"] = inception_score(logits, splits=min(10, logits.shape[0]))
    return out


def _generated(extractor: Any, generator: nn.Module, n: int, seed: int, device: torch.device,
               batch_size: int) -> tuple[np.ndarray, np.ndarray | None]:
    pools, logits = [], []
    for images in generate_samples(generator, n, seed, device, batch_size):
        pool3, logit = extractor(images)
        pools.append(pool3)
        if logit is not None:
            logits.append(logit)
    return np.concatenate(pools), (np.concatenate(logits) if logits else None)


def _reals(cfg: RunConfig, split: str) -> Tensor:
    images = split_images(cfg, split)
    return images[:cfg.eval.max_images] if cfg.eval.max_images else images


def _gaussian_fit_size(train: Tensor, max_elements: int = 200_000_000) -> int:
    """How many training images the Gaussian is fitted to: all, up to 1000 and ``max_elements`` values."""
    per_image = int(np.prod(train.shape[1:]))
    return max(2, min(train.shape[0], 1000, max_elements // per_image))


def _extractor(cfg: RunConfig, device: torch.device) -> tuple[Any, str]:
    """The Inception feature extractor, or ``(None, why not)``."""
    from recon.api import InceptionFeatureExtractor, inception_status

    if not cfg.eval.fid:
        return None, "not computed: disabled (eval.fid=false)"
    weights = cfg.eval.inception_weights or None
    available, description = inception_status(weights)
    if not available:
        return None, f"not computed: {description}"
    return InceptionFeatureExtractor(device, weights, batch_size=max(1, cfg.eval.batch_size)), ""


def evaluate_generative(task: Any, cfg: RunConfig, generator: nn.Module, split: str, device: torch.device,
                        extra_models: dict[str, nn.Module] | None = None) -> dict[str, Any]:
    """The eval.json structure for ``split``: metrics of the model, the baselines, the conventions."""
    ev = cfg.eval
    n = ev.n_samples if split == "test" else ev.val_samples
    reals = _reals(cfg, split)
    extractor, why_not = _extractor(cfg, device)
    conventions: dict[str, Any] = {
        "name": "generative",
        "real_images": f"the {split} split of {cfg.data.source}: {reals.shape[0]} images, "
                       f"{reals.shape[-1]}x{reals.shape[-2]}, {reals.shape[1]} channel(s), in [0, 1]",
        "generated": f"{n} samples of the generator (its EMA weights when trainer.ema_decay > 0; "
                     f"truncation psi = 1, random noise inputs), seed "
                     f"{cfg.seed}; G's [-1, 1] output mapped to [0, 1] by (x + 1) / 2 and clamped",
        "n_generated": n,
        "n_real": int(reals.shape[0]),
    }
    rows: dict[str, dict[str, float]] = {"model": {}}  # the model first, then the classical baseline
    train = split_images(cfg, "train") if ev.baselines else None
    if train is not None and train.shape[0] >= 2:
        rows["gaussian"] = {}
        if cfg.data.holdout and split != "train":
            rows["training images"] = {}
    elif train is not None:
        conventions["baseline"] = "not computed: the Gaussian needs at least 2 training images"
    rows.update({name: {} for name in (extra_models or {}) if name not in rows})
    if extractor is not None and reals.shape[0] < 2:
        extractor, why_not = None, f"not computed: FID/KID need at least 2 real images, the {split} split has 1"
    if extractor is None:
        conventions["fid"] = why_not
    else:
        real_feats, _ = _features(extractor, reals)
        models = {"model": generator, **{k: m for k, m in (extra_models or {}).items() if k in rows}}
        for name, model in models.items():
            feats, logits = _generated(extractor, model, n, cfg.seed, device, max(1, ev.batch_size))
            rows[name] = _scores(real_feats, feats, logits, ev)
        if "gaussian" in rows:
            assert train is not None  # the row is there only with >= 2 training images
            fit = train[:_gaussian_fit_size(train)]
            gaussian = GaussianImageModel(fit).sample(n, torch.Generator().manual_seed(cfg.seed))
            conventions["baseline_fit"] = f"fitted to {fit.shape[0]} training images"
            rows["gaussian"] = _scores(real_feats, *_features(extractor, gaussian), ev)
        if "training images" in rows:
            assert train is not None  # the row is there only with >= 2 training images
            reference = train[:n]
            rows["training images"] = _scores(real_feats, *_features(extractor, reference), ev)
            conventions["training_images"] = f"{reference.shape[0]} real training images scored as samples"
        kid_m = min(ev.kid_subset_size, n, int(reals.shape[0]))
        conventions.update({
            "fid": "Frechet distance of InceptionV3 pool3 (2048-d) features, generated vs real",
            "kid": f"unbiased MMD^2, cubic polynomial kernel, mean/std over {ev.kid_subsets} subsets of "
                   f"{kid_m} (kid_std is the std over subsets)",
            "is": "Inception Score over min(10, n) splits" if extractor.has_logits
                  else "not computed: these Inception weights have no classifier head",
            "inception_weights": extractor.weights_name,
            "preprocessing": "8-bit quantised, gray repeated to RGB, resized to 299x299 as the weights' "
                             "reference pipeline",
            "caution": "FID is biased upward with few samples: compare rows only at equal n_generated "
                       "and n_real (the model, gaussian and compared rows here share them; the "
                       "training-images row has min(n_generated, n_train) samples)",
        })
    if "gaussian" in rows:
        conventions["baseline"] = GaussianImageModel.name
    baselines: list[dict[str, Any]] = [{"name": name, "metrics": rows[name]} for name in rows if name != "model"]
    first = baselines[0] if baselines else {"name": None, "metrics": {}}
    return {
        "task": task.name,
        "split": split,
        "n_images": n,
        "n_real": int(reals.shape[0]),
        "metrics": rows["model"],
        "baseline": first,
        "baselines": baselines,
        "conventions": conventions,
    }
