"""Evaluation of a paired (input -> target) task on a split, with its baselines.

Produces the ``eval.json`` structure of DESIGN.md::

    {"task", "split", "n_images", "n_volumes", "metrics": {...},
     "baseline": {"name", "metrics"}, "baselines": [{"name", "metrics"}, ...],
     "conventions": {...}}

plus ``"n_available"`` (the number of evaluation images) when ``eval.max_images`` left some
out, and ``"data"`` (the path) for ``recon eval --data``.

Metrics come from :mod:`recon.metrics` (one implementation for validation, ``recon eval``
and the benchmarks). In the ``fastmri`` convention slices are stacked into their volume and
scored per volume, then averaged over volumes; in the ``sr`` convention each image is
scored on its own and averaged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence, Sized, cast

import torch
from torch import Tensor, nn

from recon.scores import MethodScores, RegisteredMetric, registered_metrics
from recon.shards import broadcast_from_main, gather_to_main, shard_range
from recon.task import split_generated

if TYPE_CHECKING:
    from recon.config import RunConfig
    from recon.task import Parts, Task

Method = Callable[[dict[str, Tensor]], Tensor]


def iterate_batches(dataset: Any, batch_size: int, limit: int = 0,
                    indices: Sequence[int] | None = None) -> Iterator[dict[str, Any]]:
    """Batches of consecutive items of equal shape (eval images may differ in size).

    ``indices`` restricts the items (a process's shard); ``limit`` caps how many are read.
    """
    pending: list[dict[str, Any]] = []
    count = 0
    for index in (range(len(dataset)) if indices is None else indices):
        if limit and count >= limit:
            break
        item = dataset[index]
        count += 1
        if pending and (len(pending) == batch_size or _shape(pending[0]) != _shape(item)):
            yield _collate(pending)
            pending = []
        pending.append(item)
    if pending:
        yield _collate(pending)


def _shape(item: dict[str, Any]) -> tuple:
    """The shapes of an item's tensors, nested mappings (e.g. operator ``params``) included."""
    return tuple((k, _shape(v) if isinstance(v, dict) else tuple(v.shape))
                 for k, v in item.items() if isinstance(v, (Tensor, dict)))


def _collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack items of equal shapes key by key (nested mappings collated the same way)."""
    out: dict[str, Any] = {}
    for key in items[0]:
        values = [it[key] for it in items]
        if isinstance(values[0], dict):
            out[key] = _collate(values)
        else:
            out[key] = torch.stack(values) if isinstance(values[0], Tensor) else torch.tensor(values)
    return out


def _lpips_model(cfg: "RunConfig", device: torch.device) -> tuple[nn.Module | None, str]:
    if not cfg.eval.lpips:
        return None, "disabled (eval.lpips=false)"
    from recon.metrics import LPIPS, lpips_status

    available, reason = lpips_status("alex")
    if not available:
        return None, f"not computed: {reason}"
    model = LPIPS(net="alex", device=str(device))
    return model, model.label


def paired_methods(parts: "Parts", generator: nn.Module,
                   extra_models: dict[str, nn.Module] | None = None) -> dict[str, Method]:
    """Every method a paired evaluation scores, by name: ``model`` first, then the task's
    baselines (``parts.baselines``), then ``extra_models``; each maps a batch to its
    postprocessed prediction ``(B, C, H, W)``. Puts the networks in eval mode."""
    generator.eval()
    def run(model: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        return parts.postprocess(split_generated(parts.generate(model, batch))[0])

    methods: dict[str, Method] = {"model": lambda b: run(generator, b)}
    for name, fn in (parts.baselines or {}).items():
        methods[name] = (lambda f: (lambda b: parts.postprocess(f(b))))(fn)
    for name, model in (extra_models or {}).items():
        model.eval()
        methods[name] = (lambda m: (lambda b: run(m, b)))(model)
    return methods


def border_crop(task: "Task", cfg: "RunConfig") -> int:
    """Pixels cropped from each border before scoring: ``cfg.data.scale`` under the ``sr``
    convention (BasicSR's crop of the SR scale; 0 when the task's data has no scale), else 0."""
    if task.metric_convention != "sr":
        return 0
    return int(getattr(cfg.data, "scale", 0) or 0)


def evaluate_task(task: "Task", parts: "Parts", cfg: "RunConfig", generator: nn.Module, split: str,
                  device: torch.device, extra_models: dict[str, nn.Module] | None = None) -> dict[str, Any]:
    """Score ``generator`` (and ``extra_models``) on ``split`` the way ``task`` is scored: by
    FID/KID of samples when its parts declare a ``sampler``
    (:func:`recon.generative_eval.evaluate_generative`), else :func:`evaluate_paired`."""
    if parts.sampler is not None:
        from recon.generative_eval import evaluate_generative

        return evaluate_generative(task, parts, cfg, generator, split, device, extra_models)
    return evaluate_paired(task, parts, cfg, generator, split, device, extra_models)


@torch.no_grad()
def evaluate_paired(task: "Task", parts: "Parts", cfg: "RunConfig", generator: nn.Module, split: str,
                    device: torch.device, extra_models: dict[str, nn.Module] | None = None) -> dict[str, Any]:
    """Score the generator, the task's baselines and ``extra_models`` on ``split``: distortion
    metrics in the task's convention, LPIPS when its backbone is on disk, ST-LPIPS, and patch
    KID/FID when ``eval.patch_kid`` is on (:mod:`recon.perceptual_eval`)."""
    from recon.metrics import CONVENTIONS
    from recon.perceptual_eval import STLPIPSScorer, patch_metrics, st_lpips_nets

    dataset = task.build_dataset(cfg, split)
    methods = paired_methods(parts, generator, extra_models)
    size = len(cast(Sized, dataset))  # evaluation datasets are map-style (iterate_batches indexes them)
    first = dataset[0] if size else {}  # one item read up front: its layout and its keys
    volumetric = bool(first) and first["target"].dim() == 4  # 3D items (C, X, Y, Z): scored as volumes

    scale = border_crop(task, cfg)
    scores = {name: MethodScores(task.metric_convention, scale, getattr(cfg.data, "axis", 2)) for name in methods}
    extra = registered_metrics(cfg, task.metric_convention, scale, parts.metrics)
    inputs = metric_inputs(extra, first, task.name)
    lpips_model, lpips_label = _lpips_model(cfg, device)
    st_lpips = STLPIPSScorer(st_lpips_nets(cfg), scale, device)
    if volumetric:  # ST-LPIPS, LPIPS and patch KID are 2D image networks
        lpips_model, lpips_label = None, "not computed for 3D volumes"
        st_lpips.models.clear()
        st_lpips.conventions = {name: "not computed for 3D volumes" for name in st_lpips.conventions}
    n_images = 0
    # under torchrun each process scores a contiguous shard; rank 0 gathers and scores all
    limit = cfg.eval.max_images
    shard = shard_range(min(size, limit) if limit else size)
    for batch in iterate_batches(dataset, 1 if volumetric else cfg.eval.batch_size, indices=shard):
        batch = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in batch.items()}
        target = batch["target"].clamp(0, 1)
        first_id = shard.start + n_images
        volume_ids = batch.get("volume", torch.arange(first_id, first_id + target.shape[0]))
        n_images += target.shape[0]
        for name, method in methods.items():
            pred = method(batch)
            scores[name].add(volume_ids, target, pred, {key: batch[key] for key in inputs})
            if lpips_model is not None:
                scores[name].lpips.extend(lpips_model(target, pred).float().cpu().tolist())
            scores[name].add_perceptual(volume_ids, st_lpips(target, pred))
    gathered = _gather_shards(scores, n_images)
    if gathered is None:  # not rank 0: receive rank 0's result
        return broadcast_from_main(None)
    n_images = gathered

    computed = {name: s.compute(extra) for name, s in scores.items()}
    patches: dict[str, dict[str, float]] = {}
    patch_conventions: dict[str, str] = {}
    if volumetric:
        if cfg.eval.patch_kid:
            patch_conventions["kid_patch"] = "not computed for 3D volumes"
    else:
        patches, patch_conventions = patch_metrics(cfg, {name: s.pairs() for name, s in scores.items()}, device)
    for name, values in patches.items():
        computed[name].update(values)
    baseline_list: list[dict[str, Any]] = [{"name": name, "metrics": computed[name]}
                                           for name in methods if name != "model"]
    conventions: dict[str, Any] = dict(CONVENTIONS[task.metric_convention])  # plus crop_border: int
    conventions["name"] = task.metric_convention
    if task.metric_convention == "sr":
        conventions["crop_border"] = scale
    conventions["lpips"] = lpips_label
    conventions.update(st_lpips.conventions)
    conventions.update(patch_conventions)
    for name, metric in extra.items():
        conventions.setdefault(name, metric.convention)
    first = baseline_list[0] if baseline_list else {"name": None, "metrics": {}}
    result: dict[str, Any] = {
        "task": task.name,
        "split": split,
        "n_images": n_images,
        "n_volumes": len(scores["model"].volumes) if task.metric_convention == "fastmri" else n_images,
        "metrics": computed["model"],
        "baseline": first,
        "baselines": baseline_list,
        "conventions": conventions,
    }
    if limit and size > limit:  # eval.max_images left images out: say how many there were
        result["n_available"] = size
    return broadcast_from_main(result)


def metric_inputs(metrics: dict[str, RegisteredMetric], item: dict[str, Any], task: str) -> list[str]:
    """The batch keys the registered metrics read (beside target and prediction); a key the
    task's evaluation items lack is refused (one line)."""
    keys = list(dict.fromkeys(key for metric in metrics.values() for key in metric.inputs))
    for metric in metrics.values():
        missing = [key for key in metric.inputs if key not in item]
        if missing:
            from recon.errors import UsageError

            raise UsageError(f"metric '{metric.name}' reads batch key(s) {missing}, which the evaluation data "
                             f"of task {task} does not provide (it has {', '.join(sorted(item)) or 'none'})")
    return keys


def _gather_shards(scores: dict[str, MethodScores], n_images: int) -> int | None:
    """Merge every process's predictions into ``scores`` on rank 0 (in rank order, so the
    slices of a volume split between shards stay in order). Returns the total image count
    on rank 0, ``None`` on other ranks; without a process group, ``n_images``."""
    parts = gather_to_main((n_images, {name: s.state() for name, s in scores.items()}))
    if parts is None:
        return None
    if len(parts) == 1:
        return n_images
    merged = {name: MethodScores(s.convention, s.scale, s.axis) for name, s in scores.items()}
    for _, per_method in parts:
        for name, state in per_method.items():
            merged[name].merge(state)
    scores.update(merged)
    return sum(count for count, _ in parts)


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table: one row per method (model first), one column per metric (the
    anatomy metrics' per-property means and stds stay in eval.json: their distances are shown)."""
    rows = [("model", result["metrics"])] + [(b["name"], b["metrics"]) for b in result.get("baselines", [])]
    keys = list(result["metrics"].keys())
    for _, metrics in rows:
        keys += [k for k in metrics if k not in keys]
    keys = [k for k in keys if not k.startswith(("anat_mean_", "anat_std_"))]
    header = ["method"] + keys
    lines = [[name] + [_fmt(metrics.get(k)) for k in keys] for name, metrics in rows]
    widths = [max(len(str(r[i])) for r in [header] + lines) for i in range(len(header))]
    count = f"{result['n_images']} of {result['n_available']}" if "n_available" in result else result["n_images"]
    where = "your data" if "data" in result else f"the {result['split']} split"  # recon eval --data
    out = [f"{result['task']} on {where} ({count} images)"]
    out.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if 0 < abs(value) < 0.01:
            return f"{value:.3g}"  # KID, small NMSE: significant digits, not zeros
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    return str(value)
