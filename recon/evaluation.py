"""Evaluation of a paired (input -> target) task on a split, with its baselines.

Produces the ``eval.json`` structure of DESIGN.md::

    {"task", "split", "n_images", "n_volumes", "metrics": {...},
     "baseline": {"name", "metrics"}, "baselines": [{"name", "metrics"}, ...],
     "conventions": {...}}

Metrics come from :mod:`recon.metrics` (one implementation for validation, ``recon eval``
and the benchmarks). In the ``fastmri`` convention slices are stacked into their volume and
scored per volume, then averaged over volumes; in the ``sr`` convention each image is
scored on its own and averaged.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence, Sized, cast

import numpy as np
import torch
from torch import Tensor, nn

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


def _gray(image: np.ndarray) -> np.ndarray:
    """``(C, H, W)`` -> ``(H, W)``: the channel of a magnitude image (mean if several)."""
    return image[0] if image.shape[0] == 1 else image.mean(0)


class _Scores:
    """Accumulates predictions of one method and scores them in the task's convention."""

    def __init__(self, convention: str, scale: int) -> None:
        self.convention, self.scale = convention, scale
        self.volumes: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        self.lpips: list[float] = []
        #: perceptual distances per metric (``st_lpips``...), per volume
        self.perceptual: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))

    def add(self, volume_ids: Tensor, target: Tensor, pred: Tensor) -> None:
        t, p = target.float().cpu().numpy(), pred.float().cpu().numpy()
        for i, vid in enumerate(volume_ids.tolist()):
            self.volumes[int(vid)].append((t[i], p[i]))

    def add_perceptual(self, volume_ids: Tensor, distances: dict[str, list[float]]) -> None:
        for name, values in distances.items():
            for vid, value in zip(volume_ids.tolist(), values, strict=True):
                self.perceptual[name][int(vid)].append(value)

    def compute(self, extra: dict[str, "RegisteredMetric"] | None = None) -> dict[str, float]:
        """Core's metrics per unit (a volume in ``fastmri``, an image in ``sr``), then the mean;
        ``extra``: registered metrics (``eval.metrics``) scored on the same units."""
        from recon.metrics import image_metrics
        from recon.perceptual_eval import volume_mean

        per_unit: list[dict[str, float]] = []
        crop = self.scale if self.convention == "sr" else 0  # the border crop is sr's alone
        for pairs in self.volumes.values():
            if self.convention == "fastmri":
                units = [(np.stack([_gray(g) for g, _ in pairs]), np.stack([_gray(q) for _, q in pairs]))]
            else:
                units = pairs
            for gt, pr in units:
                scores = image_metrics(gt, pr, self.convention, scale=crop)
                for metric in (extra or {}).values():
                    scores[metric.name] = metric(gt, pr)
                per_unit.append(scores)
        keys = per_unit[0].keys() if per_unit else []
        result = {k: float(np.mean([u[k] for u in per_unit])) for k in keys}
        if self.lpips:
            result["lpips"] = float(np.mean(self.lpips))
        for name, per_volume in self.perceptual.items():
            result[name] = volume_mean(per_volume)
        return result


class RegisteredMetric:
    """A metric of the ``metrics`` registry built for one evaluation (``eval.metrics``).

    Called as ``metric(target, prediction) -> float`` on one unit (see
    :func:`recon.hookspecs.register_metrics`): the arrays are passed read-only, and an
    exception or a value that is not a real number is the plugin's error (one line).
    """

    def __init__(self, entry: Any, fn: Callable[[np.ndarray, np.ndarray], float], unit: str) -> None:
        self.name, self.plugin, self.fn = entry.name, entry.plugin, fn
        self.convention = (f"{entry.description or 'registered metric'} (registered by plugin "
                           f"'{entry.plugin}', eval.metrics): per {unit}, mean over {unit}s")

    def __call__(self, target: np.ndarray, prediction: np.ndarray) -> float:
        from recon.errors import PluginError

        target, prediction = target.view(), prediction.view()
        for array in (target, prediction):
            array.setflags(write=False)  # read-only views: core's metrics score the same arrays
        try:
            return float(self.fn(target, prediction))
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported as such
            raise PluginError(f"metric '{self.name}' of plugin '{self.plugin}' failed: "
                              f"{type(exc).__name__}: {exc}") from exc


def registered_metrics(cfg: "RunConfig", convention: str, scale: int,
                       always: Sequence[str] = ()) -> dict[str, RegisteredMetric]:
    """The registered metrics of an evaluation: the task's own (``always``, :attr:`Task.metrics`)
    then those ``eval.metrics`` names, built with the task's convention and border crop.

    Raises:
        UsageError: an unknown name (one line, the valid names and the closest match).
    """
    from recon.plugins import build_entry, get_plugin_system

    registry = get_plugin_system().registry("metrics")
    out: dict[str, RegisteredMetric] = {}
    for name in dict.fromkeys([*always, *(getattr(cfg.eval, "metrics", None) or [])]):
        entry = registry.get(name, key="eval.metrics")
        fn = build_entry(entry, "metric", convention=convention, scale=scale)
        out[name] = RegisteredMetric(entry, fn, "volume" if convention == "fastmri" else "image")
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
    """Score ``generator`` (and ``extra_models``) on ``split`` the way ``task`` is scored:
    its parts' own ``evaluate`` when they declare one, else :func:`evaluate_paired`."""
    if parts.evaluate is not None:
        return parts.evaluate(cfg, generator, split, device, extra_models)
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

    scale = border_crop(task, cfg)
    scores = {name: _Scores(task.metric_convention, scale) for name in methods}
    lpips_model, lpips_label = _lpips_model(cfg, device)
    st_lpips = STLPIPSScorer(st_lpips_nets(cfg), scale, device)
    n_images = 0
    # under torchrun each process scores a contiguous shard; rank 0 gathers and scores all
    limit = cfg.eval.max_images
    size = len(cast(Sized, dataset))  # evaluation datasets are map-style (iterate_batches indexes them)
    shard = shard_range(min(size, limit) if limit else size)
    for batch in iterate_batches(dataset, cfg.eval.batch_size, indices=shard):
        batch = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in batch.items()}
        target = batch["target"].clamp(0, 1)
        first_id = shard.start + n_images
        volume_ids = batch.get("volume", torch.arange(first_id, first_id + target.shape[0]))
        n_images += target.shape[0]
        for name, method in methods.items():
            pred = method(batch)
            scores[name].add(volume_ids, target, pred)
            if lpips_model is not None:
                scores[name].lpips.extend(lpips_model(target, pred).float().cpu().tolist())
            scores[name].add_perceptual(volume_ids, st_lpips(target, pred))
    gathered = _gather_shards(scores, n_images)
    if gathered is None:  # not rank 0: receive rank 0's result
        return broadcast_from_main(None)
    n_images = gathered

    extra = registered_metrics(cfg, task.metric_convention, scale, parts.metrics)
    computed = {name: s.compute(extra) for name, s in scores.items()}
    patches, patch_conventions = patch_metrics(cfg, {name: s.volumes for name, s in scores.items()}, device)
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
    return broadcast_from_main({
        "task": task.name,
        "split": split,
        "n_images": n_images,
        "n_volumes": len(scores["model"].volumes) if task.metric_convention == "fastmri" else n_images,
        "metrics": computed["model"],
        "baseline": first,
        "baselines": baseline_list,
        "conventions": conventions,
    })


def check_metrics_reported(cfg: "RunConfig", result: dict[str, Any]) -> None:
    """Refuse (UsageError) an evaluation result that lacks a metric ``eval.metrics`` asked for:
    the task scored itself without :func:`evaluate_paired` (e.g. 3D super-resolution), and the
    request would otherwise be ignored silently."""
    reported = result.get("metrics", {})
    missing = [name for name in getattr(cfg.eval, "metrics", None) or [] if name not in reported]
    if missing:
        from recon.errors import UsageError

        raise UsageError(f"eval.metrics={missing}: task {cfg.task} is not scored by recon's paired evaluation "
                         f"with this configuration (its own evaluation reports {', '.join(reported) or 'nothing'}); "
                         "remove eval.metrics")


def _gather_shards(scores: dict[str, _Scores], n_images: int) -> int | None:
    """Merge every process's predictions into ``scores`` on rank 0 (in rank order, so the
    slices of a volume split between shards stay in order). Returns the total image count
    on rank 0, ``None`` on other ranks; without a process group, ``n_images``."""
    parts = gather_to_main((n_images, {name: (dict(s.volumes), s.lpips, _plain(s.perceptual))
                                       for name, s in scores.items()}))
    if parts is None:
        return None
    if len(parts) == 1:
        return n_images
    merged = {name: _Scores(s.convention, s.scale) for name, s in scores.items()}
    for _, per_method in parts:
        for name, (volumes, lpips, perceptual) in per_method.items():
            for vid, pairs in volumes.items():
                merged[name].volumes[vid].extend(pairs)
            merged[name].lpips.extend(lpips)
            for metric, per_volume in perceptual.items():
                for vid, values in per_volume.items():
                    merged[name].perceptual[metric][vid].extend(values)
    scores.update(merged)
    return sum(count for count, _ in parts)


def _plain(nested: dict[str, dict[int, list[float]]]) -> dict[str, dict[int, list[float]]]:
    """Picklable copy of nested defaultdicts (they hold lambdas)."""
    return {key: dict(value) for key, value in nested.items()}


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table: one row per method (model first), one column per metric."""
    rows = [("model", result["metrics"])] + [(b["name"], b["metrics"]) for b in result.get("baselines", [])]
    keys = list(result["metrics"].keys())
    for _, metrics in rows:
        keys += [k for k in metrics if k not in keys]
    header = ["method"] + keys
    lines = [[name] + [_fmt(metrics.get(k)) for k in keys] for name, metrics in rows]
    widths = [max(len(str(r[i])) for r in [header] + lines) for i in range(len(header))]
    out = [f"{result['task']} on the {result['split']} split ({result['n_images']} images)"]
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
