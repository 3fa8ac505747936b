"""What a paired evaluation accumulates per method, and the registered metrics it scores.

:class:`MethodScores` is the streaming state of one method: ``add`` a batch of predictions
(with their targets, volume ids and any batch inputs a registered metric reads), ``merge``
another process's state (DDP shards, in rank order), ``compute`` the metrics. Units follow the
task's convention: in ``fastmri`` the slices of a volume are stacked into ``(slices, H, W)``
and a 3D item ``(C, X, Y, Z)`` is one volume whose slices run along ``data.axis``; in ``sr``
every image ``(C, H, W)`` is a unit.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
from torch import Tensor

if TYPE_CHECKING:
    from recon.config import RunConfig

__all__ = ["MethodScores", "RegisteredMetric", "registered_metrics"]


def gray(image: np.ndarray) -> np.ndarray:
    """``(C, ...)`` -> ``(...)``: the channel of a magnitude image (mean if several)."""
    return image[0] if image.shape[0] == 1 else image.mean(0)


class RegisteredMetric:
    """A metric of the ``metrics`` registry built for one evaluation.

    Called as ``metric(target, prediction, **inputs) -> float`` on one unit (see
    :func:`recon.hookspecs.register_metrics`): ``inputs`` are the batch keys the metric was
    registered with (e.g. an inpainting ``mask``), cut to the same unit. The arrays are passed
    read-only, and an exception or a value that is not a real number is the plugin's error
    (one line).
    """

    def __init__(self, entry: Any, fn: Callable[..., float], unit: str) -> None:
        self.name, self.plugin, self.fn = entry.name, entry.plugin, fn
        self.inputs: tuple[str, ...] = tuple(entry.extra.get("inputs", ()))
        self.convention = (f"{entry.description or 'registered metric'} (registered by plugin "
                           f"'{entry.plugin}', eval.metrics): per {unit}, mean over {unit}s")

    def __call__(self, target: np.ndarray, prediction: np.ndarray, **inputs: np.ndarray) -> float:
        from recon.errors import PluginError

        arrays = {"target": target.view(), "prediction": prediction.view(),
                  **{k: v.view() for k, v in inputs.items()}}
        for array in arrays.values():
            array.setflags(write=False)  # read-only views: core's metrics score the same arrays
        try:
            return float(self.fn(arrays.pop("target"), arrays.pop("prediction"), **arrays))
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported as such
            raise PluginError(f"metric '{self.name}' of plugin '{self.plugin}' failed: "
                              f"{type(exc).__name__}: {exc}") from exc


def registered_metrics(cfg: "RunConfig", convention: str, scale: int,
                       always: Sequence[str] = ()) -> dict[str, RegisteredMetric]:
    """The registered metrics of an evaluation: the task's own (``always``, ``Parts.metrics``)
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


def volume_mean(values: dict[int, list[float]]) -> float:
    """Mean over volumes of the per-volume mean."""
    return float(np.mean([np.mean(v) for v in values.values() if v]))


Item = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]  # target, prediction, inputs: (C, ...)


class MethodScores:
    """The predictions of one method, per volume, and what they score.

    Args:
        convention: ``fastmri`` or ``sr``.
        scale: the ``sr`` border crop (pixels from each side).
        axis: the slice axis of 3D items (``data.axis``).
    """

    def __init__(self, convention: str, scale: int, axis: int = 2) -> None:
        self.convention, self.scale, self.axis = convention, scale, axis
        self.volumes: dict[int, list[Item]] = defaultdict(list)
        self.lpips: list[float] = []
        #: perceptual distances per metric (``st_lpips``...), per volume
        self.perceptual: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))

    def add(self, volume_ids: Tensor, target: Tensor, pred: Tensor, inputs: dict[str, Tensor] | None = None) -> None:
        """A batch: ``(B, C, ...)`` targets and predictions, their ``(B,)`` volume ids, and
        ``inputs`` (batch tensors ``(B, ...)`` a registered metric reads)."""
        t, p = target.float().cpu().numpy(), pred.float().cpu().numpy()
        extra = {k: v.float().cpu().numpy() for k, v in (inputs or {}).items()}
        for i, vid in enumerate(volume_ids.tolist()):
            self.volumes[int(vid)].append((t[i], p[i], {k: v[i] for k, v in extra.items()}))

    def add_perceptual(self, volume_ids: Tensor, distances: dict[str, list[float]]) -> None:
        for name, values in distances.items():
            for vid, value in zip(volume_ids.tolist(), values, strict=True):
                self.perceptual[name][int(vid)].append(value)

    def pairs(self) -> dict[int, list[tuple[np.ndarray, np.ndarray]]]:
        """``{volume id: [(target, prediction), ...]}`` in evaluation order."""
        return {vid: [(t, p) for t, p, _ in items] for vid, items in self.volumes.items()}

    def state(self) -> tuple[dict[int, list[Item]], list[float], dict[str, dict[int, list[float]]]]:
        """A picklable copy of the state, for :meth:`merge` on another process."""
        return dict(self.volumes), self.lpips, {k: dict(v) for k, v in self.perceptual.items()}

    def merge(self, state: tuple[dict[int, list[Item]], list[float], dict[str, dict[int, list[float]]]]) -> None:
        """Append another shard's :meth:`state` (shards merged in rank order keep volumes in order)."""
        volumes, lpips, perceptual = state
        for vid, items in volumes.items():
            self.volumes[vid].extend(items)
        self.lpips.extend(lpips)
        for metric, per_volume in perceptual.items():
            for vid, values in per_volume.items():
                self.perceptual[metric][vid].extend(values)

    def units(self) -> list[Item]:
        """The scored units: whole volumes ``(slices, H, W)`` in ``fastmri``, images in ``sr``."""
        out: list[Item] = []
        for items in self.volumes.values():
            if self.convention != "fastmri":
                out += items
            elif items[0][0].ndim == 4:  # 3D items (C, X, Y, Z): each is a volume, sliced along axis
                out += [(np.moveaxis(gray(t), self.axis, 0), np.moveaxis(gray(p), self.axis, 0),
                         {k: np.moveaxis(gray(v), self.axis, 0) for k, v in extra.items()}) for t, p, extra in items]
            else:
                out.append((np.stack([gray(t) for t, _, _ in items]), np.stack([gray(p) for _, p, _ in items]),
                            {k: np.stack([gray(e[k]) for _, _, e in items]) for k in items[0][2]}))
        return out

    def compute(self, extra: dict[str, RegisteredMetric] | None = None) -> dict[str, float]:
        """Core's metrics per unit, then the mean; ``extra``: registered metrics scored on the
        same units (each given the inputs it was registered with)."""
        from recon.metrics import image_metrics
        per_unit: list[dict[str, float]] = []
        crop = self.scale if self.convention == "sr" else 0  # the border crop is sr's alone
        for gt, pr, inputs in self.units():
            scores = image_metrics(gt, pr, self.convention, scale=crop)
            for metric in (extra or {}).values():
                scores[metric.name] = metric(gt, pr, **{k: inputs[k] for k in metric.inputs})
            per_unit.append(scores)
        keys = per_unit[0].keys() if per_unit else []
        result = {k: float(np.mean([u[k] for u in per_unit])) for k in keys}
        if self.lpips:
            result["lpips"] = float(np.mean(self.lpips))
        for name, per_volume in self.perceptual.items():
            result[name] = volume_mean(per_volume)
        return result
