"""Evaluation of an unconditional task: FID / KID / IS of generated samples against real images.

A task that declares a :attr:`~recon.task.Parts.sampler` is scored here instead of by the
paired evaluation. Every method is scored with ``n`` samples (``eval.n_samples`` on the test
split, ``eval.val_samples`` otherwise) against the same real images, the items of
``task.build_dataset(cfg, split)``, with :mod:`recon.metrics` (InceptionV3 pool3 features).
Rows, in order: the model (the EMA generator during training, the checkpoint's weights in
``recon eval``), the task's :attr:`~recon.task.Parts.sample_baselines` (classical references
such as a Gaussian fitted to the training images), then compared checkpoints.

Under ``torchrun`` each process generates a contiguous share of the sample batches (batch
boundaries as in one process, so the samples are the same) and rank 0 scores them all.
Features of fixed image sets (the reals, a baseline's seeded samples) are cached by content
hash (:class:`recon.metrics.FeatureStatsCache` under the recon cache directory, plus an
in-process memo), so validation during training only pays for the new samples. Without
Inception weights (or with ``eval.fid=false``) nothing is computed and ``conventions["fid"]``
says why; random weights are never used.

For brain images (``eval.anatomy``; auto: the ``mni152`` source) every row also reports
:mod:`recon.metrics.anatomy`: tissue fractions, brain and ventricle size of each image under one
intensity rule fitted on the split's real images, compared with the reals' by 1-D Wasserstein
distances (``anat_w1_*``, with ``anat_mean_*`` / ``anat_std_*``). They are measured on the same
samples as FID (per batch, as they are generated, on the process that generates them) and need
no Inception weights.

A conditional run (``data.labels`` set, classes named by ``data.class_names``; the split's
items carry ``label``, the class index) also reports FID and KID per class,
``fid_class_<name>``, ``kid_class_<name>`` (and ``kid_class_<name>_std``), for the generated
rows: the task's sampler gives sample ``i`` class ``i % classes``, so class ``c`` is scored
with the samples ``i % classes == c`` of the same ``n`` against the split's real images
labelled ``c`` (:func:`recon.metrics.class_scores`, on rank 0 after the gather, from the same
features as the overall figures). ``conventions["per_class"]`` records the counts and why a
class is not scored (fewer than 2 real images or samples).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from recon.errors import UsageError
from recon.shards import broadcast_from_main, gather_to_main, shard_range

if TYPE_CHECKING:
    from recon.config import RunConfig
    from recon.metrics import ClassScores
    from recon.task import Parts, ReferenceSamples, Sampler, Task

__all__ = ["evaluate_generative", "sample_batches"]

Features = tuple[np.ndarray, "np.ndarray | None"]  # (N, 2048) pool3 features, (N, 1008) logits or None
Properties = dict[str, np.ndarray]  # recon.metrics.anatomy_properties: {property: (N,)}
_MEMO: OrderedDict[tuple[str, str], Features] = OrderedDict()


def sample_batches(n: int, batch_size: int) -> list[range]:
    """The sample indices of each evaluation batch: ``range(0, b), range(b, 2b), ...`` up to ``n``."""
    return [range(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def _fixed_features(extractor: Any, images: Tensor) -> Features:
    """Pool3 features (and logits) of a fixed image set, through the memo and the disk cache."""
    from recon.data.cache import cache_root
    from recon.metrics import FeatureStats, FeatureStatsCache, hash_data

    key = (hash_data(images), extractor.weights_id)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    cache = FeatureStatsCache(cache_root() / "fid")
    stats = cache.load(*key) if not extractor.has_logits else None  # logits are not cached on disk
    if stats is not None:
        value: Features = (stats.features, None)
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


def _generated_features(extractor: Any, sampler: "Sampler", generator: nn.Module, n: int, seed: int,
                        device: torch.device, batch_size: int,
                        anatomy: "_Anatomy | None" = None) -> tuple[Features | None, Properties | None] | None:
    """Features of ``n`` samples of ``generator`` (``None`` without ``extractor``) and their
    anatomy properties (``None`` without ``anatomy``), gathered from every process's batches
    onto rank 0 in batch order (``None`` on other ranks)."""
    batches = sample_batches(n, batch_size)
    pools, logits, props = [], [], []
    for indices in (batches[i] for i in shard_range(len(batches))):
        images = sampler(generator, indices, seed, device)
        if extractor is not None:
            pool3, logit = extractor(images)
            pools.append(pool3)
            if logit is not None:
                logits.append(logit)
        if anatomy is not None:
            props.append(anatomy.properties(images))
    shards = gather_to_main((pools, logits, props))
    if shards is None:
        return None
    pools = [p for shard_pools, _, _ in shards for p in shard_pools]
    logits = [p for _, shard_logits, _ in shards for p in shard_logits]
    props = [p for _, _, shard_props in shards for p in shard_props]
    features = (np.concatenate(pools), np.concatenate(logits) if logits else None) if extractor is not None else None
    properties = {k: np.concatenate([p[k] for p in props]) for k in props[0]} if anatomy is not None else None
    return features, properties


class _Anatomy:
    """The anatomy rule of one evaluation: thresholds fitted on the split's reals, their properties."""

    def __init__(self, reals: Tensor, order: tuple[str, str, str], contrast: str) -> None:
        from recon.metrics import anatomy_properties, tissue_thresholds

        self.spatial_dims = reals.ndim - 2
        self.contrast = contrast
        self.thresholds = tissue_thresholds(reals, order, spatial_dims=self.spatial_dims)
        self.real = anatomy_properties(reals, self.thresholds, spatial_dims=self.spatial_dims)

    def properties(self, images: Tensor) -> Properties:
        from recon.metrics import anatomy_properties

        return anatomy_properties(images, self.thresholds, spatial_dims=self.spatial_dims)

    def scores(self, fake: Properties) -> dict[str, float]:
        from recon.metrics import anatomy_distances

        return anatomy_distances(self.real, fake)

    def conventions(self, split: str) -> dict[str, Any]:
        t = self.thresholds
        return {
            "rule": f"{t.describe()} (multi-Otsu, 4 classes, 256 bins, fitted once on all pixels of the "
                    f"{self.real['brain'].shape[0]} real {split} images; images of C channels averaged); "
                    f"contrast {self.contrast}",
            "thresholds": {"background": t.background, "low": t.low, "high": t.high, "order": list(t.order)},
            "brain": "pixels >= background with holes filled, as a fraction of the image's pixels",
            "csf, gm, wm": "fraction of the brain's pixels in each intensity class (brain pixels below "
                           f"background count as {t.order[0]}); 0 for an image without brain",
            "ventricles": "CSF-class connected components (face connectivity) that do not touch the "
                          "brain's boundary, as a fraction of the image's pixels",
            "metrics": "anat_w1_<p>: 1-D Wasserstein distance between the row's and the real images' "
                       "values of property p; anat_mean_<p>, anat_std_<p> (ddof 0) of the row's images",
            "real": {f"{stat}_{k}": float(fn(v)) for k, v in self.real.items()
                     for stat, fn in (("mean", np.mean), ("std", np.std))},
        }


def _anatomy(cfg: "RunConfig", reals: Tensor) -> tuple[_Anatomy | None, str]:
    """The anatomy rule fitted on ``reals``, or ``(None, why not)`` (``""``: off, nothing to say)."""
    from recon.data.contrasts import tissue_signals

    ev = cfg.eval
    name, _, arg = str(getattr(cfg.data, "source", "") or "").partition(":")
    brain = name == "mni152" and getattr(cfg.data, "labels", "") != "contrast"  # one contrast: one tissue order
    enabled = getattr(ev, "anatomy", None)
    if not (brain if enabled is None else enabled):
        return None, ""
    contrast = getattr(ev, "anatomy_contrast", "auto")
    if contrast == "auto":
        contrast = arg if brain and arg in ("t2", "pd") else "t1"
        origin = f"auto, from data.source {cfg.data.source}" if brain else "auto: t1 unless set"
    else:
        origin = "eval.anatomy_contrast"
    signals = tissue_signals(contrast)
    order = tuple(sorted(("csf", "gm", "wm"), key=lambda t: signals[t]))
    if reals.ndim not in (4, 5):
        return None, f"not computed: needs (N, C, H, W) or (N, C, D, H, W) real images, got {tuple(reals.shape)}"
    try:
        return _Anatomy(reals, (order[0], order[1], order[2]), f"{contrast} ({origin})"), ""
    except UsageError as exc:  # a degenerate split (e.g. constant images) has no 4 intensity classes
        return None, f"not computed: {exc}"


def _scores(real: np.ndarray, fake: np.ndarray, logits: np.ndarray | None, ev: Any) -> dict[str, float]:
    from recon.metrics import fid_from_features, inception_score, kid

    out = {"fid": fid_from_features(real, fake)}
    out["kid"], out["kid_std"] = kid(real, fake, subsets=ev.kid_subsets, subset_size=ev.kid_subset_size, seed=0)
    if logits is not None:
        out["is"], out["is_std"] = inception_score(logits, splits=min(10, logits.shape[0]))
    return out


def _extractor(cfg: "RunConfig", device: torch.device) -> tuple[Any, str]:
    """The Inception feature extractor, or ``(None, why not)``."""
    from recon.metrics import InceptionFeatureExtractor, inception_status

    if not cfg.eval.fid:
        return None, "not computed: disabled (eval.fid=false)"
    weights = cfg.eval.inception_weights or None
    available, description = inception_status(weights)
    if not available:
        return None, f"not computed: {description}"
    return InceptionFeatureExtractor(device, weights, batch_size=max(1, cfg.eval.batch_size)), ""


def real_images(task: "Task", cfg: "RunConfig", split: str) -> Tensor:
    """``(N, C, H, W)``: the ``target`` of every item of the task's ``split`` dataset."""
    return labelled_reals(task, cfg, split)[0]


def labelled_reals(task: "Task", cfg: "RunConfig", split: str) -> tuple[Tensor, np.ndarray | None]:
    """``(N, C, H, W)`` targets of the ``split`` dataset's items and their ``(N,)`` class
    indices (``None`` unless every item carries ``label``)."""
    dataset = task.build_dataset(cfg, split)
    items = [dataset[i] for i in range(len(dataset))]  # type: ignore[arg-type]
    labels = np.array([int(it["label"]) for it in items]) if items and all("label" in it for it in items) else None
    return torch.stack([it["target"] for it in items]), labels


def _class_names(cfg: "RunConfig", labels: np.ndarray | None) -> tuple[list[str], str]:
    """The classes of a conditional run (``data.labels`` and ``data.class_names`` set), or
    ``([], why not)`` (``""``: unconditional, nothing to say)."""
    names = [str(c) for c in getattr(cfg.data, "class_names", None) or []]
    if not getattr(cfg.data, "labels", "") or not names:
        return [], ""
    if labels is None:
        return [], "not computed: the split's items carry no label"
    return names, ""


def _class_conventions(scored: "ClassScores", names: list[str], n: int, split: str) -> dict[str, Any]:
    """``conventions["per_class"]``: the rule, the counts, and why a class is not scored."""
    k = len(names)
    out: dict[str, Any] = {
        "metrics": "fid_class_<c>, kid_class_<c> (kid_class_<c>_std): fid and kid restricted to class c, "
                   "the row's samples of class c against the real images of class c (same features, "
                   "kernel and subsets; a KID subset holds min(kid_subset_size, n_generated, n_real) of c)",
        "generated": f"sample i has class i % {k} (the task's sampler): class c gets the samples i < {n} "
                     f"with i % {k} == c, not n of its own",
        "real": f"the {split} images scored by fid (eval.max_images applied) whose label is c",
        "rows": "generated rows only (the model, compared checkpoints); sample baselines draw no class",
        "classes": names,
        "n_generated": scored.n_fake,
        "n_real": scored.n_real,
    }
    if scored.not_computed:
        out["not_computed"] = scored.not_computed
    return out


def _references(parts: "Parts", cfg: "RunConfig", split: str, n: int) -> tuple[dict[str, "ReferenceSamples"],
                                                                               dict[str, str]]:
    """The sample baselines' images for ``split`` and each row's note (or why it is left out)."""
    rows: dict[str, ReferenceSamples] = {}
    notes: dict[str, str] = {}
    if not cfg.eval.baselines:
        return rows, notes
    for name, baseline in (parts.sample_baselines or {}).items():
        made = baseline(cfg, split, n, cfg.seed)
        if isinstance(made, str):
            notes[name] = made
        else:
            rows[name], notes[name] = made, made.note
    return rows, notes


@torch.no_grad()
def evaluate_generative(task: "Task", parts: "Parts", cfg: "RunConfig", generator: nn.Module, split: str,
                        device: torch.device, extra_models: dict[str, nn.Module] | None = None) -> dict[str, Any]:
    """The eval.json structure for ``split``: metrics of the model, the sample baselines and
    ``extra_models``, and the conventions (identical on every process)."""
    assert parts.sampler is not None, "evaluate_generative needs Parts.sampler"
    ev = cfg.eval
    n = ev.n_samples if split == "test" else ev.val_samples
    reals, labels = labelled_reals(task, cfg, split)
    names, classes_why_not = _class_names(cfg, labels)
    extractor, why_not = _extractor(cfg, device)
    anatomy, anatomy_why_not = _anatomy(cfg, reals)
    conventions: dict[str, Any] = {
        "name": "generative",
        "real_images": f"the {split} split of {cfg.data.source}: {reals.shape[0]} images, "
                       f"{reals.shape[-1]}x{reals.shape[-2]}, {reals.shape[1]} channel(s), in [0, 1]",
        "generated": f"{n} samples of the generator (its EMA weights when trainer.ema_decay > 0; "
                     f"truncation psi = 1, random noise inputs), seed {cfg.seed}; "
                     "the task's sampler maps its output to [0, 1]",
        "n_generated": n,
        "n_real": int(reals.shape[0]),
    }
    references, notes = _references(parts, cfg, split, n)
    models = {"model": generator, **{k: m for k, m in (extra_models or {}).items() if k not in references}}
    order = ["model", *references, *(k for k in models if k != "model")]
    rows: dict[str, dict[str, float]] = {name: {} for name in order}
    if notes:
        conventions["baselines"] = notes
    if extractor is not None and reals.shape[0] < 2:
        extractor, why_not = None, f"not computed: FID/KID need at least 2 real images, the {split} split has 1"
    if extractor is None:
        conventions["fid"] = why_not
        classes_why_not = classes_why_not or (why_not if names else "")
    if classes_why_not:
        conventions["per_class"] = classes_why_not
    if extractor is not None or anatomy is not None:
        batch_size = max(1, ev.batch_size)
        generated = {name: _generated_features(extractor, parts.sampler, model, n, cfg.seed, device, batch_size,
                                               anatomy)
                     for name, model in models.items()}
        if generated["model"] is not None:  # rank 0 scores everything
            from recon.metrics import class_scores

            real_features = _fixed_features(extractor, reals)[0] if extractor is not None else None
            for name, made in generated.items():
                assert made is not None
                features, props = made
                if features is not None and real_features is not None:
                    rows[name] = _scores(real_features, *features, ev)
                    if names and labels is not None:
                        scored = class_scores(real_features, labels, features[0], np.arange(n) % len(names),
                                              names, subsets=ev.kid_subsets, subset_size=ev.kid_subset_size,
                                              split=split)
                        rows[name].update(scored.metrics)
                        conventions["per_class"] = _class_conventions(scored, names, n, split)
                if props is not None and anatomy is not None:
                    rows[name].update(anatomy.scores(props))
            for name, reference in references.items():
                images = reference.draw()
                if extractor is not None and real_features is not None:
                    rows[name] = _scores(real_features, *_fixed_features(extractor, images), ev)
                if anatomy is not None:
                    rows[name].update(anatomy.scores(anatomy.properties(images)))
    if anatomy is not None:
        conventions["anatomy"] = anatomy.conventions(split)
    elif anatomy_why_not:
        conventions["anatomy"] = anatomy_why_not
    if extractor is not None:
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
                       "and n_real (the model, compared checkpoints and seeded baselines share them; a "
                       "baseline made of real images may hold fewer, see baselines)",
        })
    baselines: list[dict[str, Any]] = [{"name": name, "metrics": rows[name]} for name in order[1:]]
    return broadcast_from_main({
        "task": task.name,
        "split": split,
        "n_images": n,
        "n_real": int(reals.shape[0]),
        "metrics": rows["model"],
        "baseline": baselines[0] if baselines else {"name": None, "metrics": {}},
        "baselines": baselines,
        "conventions": conventions,
    })
