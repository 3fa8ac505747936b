"""Datasets a task gets by declaring its forward operator: clean images in, measurements out.

A task whose :meth:`recon.task.Task.operator` returns an operator (:mod:`recon.physics`) does
not write a dataset. Core loads the clean images of ``cfg.data`` (built-in source or the
user's files, split by volume/slab as every task is) and applies the operator per sample:

* ``train``: random patches (:class:`recon.data.patches.RandomPatchDataset`, flips/rotations
  and the ``data.augment_*`` augmentations), operator parameters drawn from the generator of
  (run seed, sample index), so a resumed or multi-process run sees the same samples;
* ``val`` / ``test``: whole slices, operator parameters drawn from (0, slice index), so the
  evaluation inputs are the same whatever the run's seed.

A sample is ``{"input": y (C', h, w), "target": x (C, H, W), "params": {...}}`` (``params``
only when the operator draws any; evaluation samples also carry ``"volume"``, the id of the
slice's volume). The operator's parameters must be ``None``, a mapping of tensors or a
dataclass of tensors: they are collated into ``batch["params"]`` and rebuilt by
:func:`params_from_batch` for the pseudo-inverse baseline.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Mapping

import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.data.augmentation import build_augmentation
from recon.data.images2d import load_split_images
from recon.data.options import augment_spec, image_spec
from recon.data.patches import RandomPatchDataset, Transform, sample_generator

if TYPE_CHECKING:
    from recon.physics import Operator

__all__ = ["measurement_pair", "MeasurementSlices", "measurement_dataset", "params_from_batch"]

#: the seed of the evaluation measurements (independent of the run's seed)
EVAL_SEED = 0


def _params_to_batch(params: Any) -> dict[str, Tensor]:
    """The tensors of ``params`` by field name (``None`` fields left out: they do not collate)."""
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        fields = {f.name: getattr(params, f.name) for f in dataclasses.fields(params)}
    elif isinstance(params, Mapping):
        fields = dict(params)
    else:
        raise TypeError(f"operator parameters must be None, a mapping or a dataclass of tensors, "
                        f"not {type(params).__name__}")
    return {name: value for name, value in fields.items() if value is not None}


def measurement_pair(operator: "Operator") -> Transform:
    """``(clean (C, H, W), rng) -> sample``: draw the operator's parameters for one image
    with ``rng``, measure, and keep the parameters beside the input."""

    def pair(clean: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
        x = clean.unsqueeze(0)
        params = operator.sample(x.shape, rng)
        sample: dict[str, Any] = {"input": operator(x, params)[0], "target": clean}
        if params is not None:
            sample["params"] = {k: v[0] if torch.is_tensor(v) and v.dim() > 0 and v.shape[0] == 1 else v
                                for k, v in _params_to_batch(params).items()}
        return sample
    return pair


def params_from_batch(operator: "Operator", batch: Mapping[str, Any]) -> Any:
    """The operator's parameters of a collated batch (``None`` when it draws none), in the
    form its :meth:`~recon.physics.Operator.sample` returns (a dataclass is rebuilt)."""
    if "params" not in batch:
        return None
    fields = dict(batch["params"])
    params_type = operator.params_type
    if params_type is None:
        return fields
    if dataclasses.is_dataclass(params_type):  # fields left out as None come back as None
        fields = {f.name: fields.get(f.name) for f in dataclasses.fields(params_type)}
    return params_type(**fields)


class MeasurementSlices(Dataset):
    """Whole images of an evaluation split, measured with parameters drawn from (0, index).

    Args:
        images: ``(volume_id, image (C, H, W))`` pairs (:func:`recon.data.images2d.load_split_images`).
        pair: the sample maker (:func:`measurement_pair`).
    """

    def __init__(self, images: tuple[tuple[int, Any], ...], pair: Transform) -> None:
        self.images = images
        self.pair = pair

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        volume_id, array = self.images[index]
        sample = self.pair(torch.as_tensor(array), sample_generator(EVAL_SEED, index))
        sample["volume"] = torch.tensor(volume_id)
        return sample


def measurement_dataset(cfg: Any, split: str, operator: "Operator", channels: int = 1,
                        multiple: int = 1) -> Dataset:
    """The ``split`` dataset of a task that declares ``operator`` (module docstring).

    ``cfg.data`` must be a :class:`recon.data.options.FileDataConfig` (every field takes
    effect); ``channels`` is the images' channel count and ``multiple`` the size every
    evaluation image is cropped to a multiple of (e.g. the SR scale).
    """
    images = load_split_images(image_spec(cfg, channels=channels, multiple=multiple), split)
    pair = measurement_pair(operator)
    if split != "train":
        return MeasurementSlices(images, pair)
    augment: Callable | None = build_augmentation(augment_spec(cfg))
    return RandomPatchDataset([torch.as_tensor(a) for _, a in images], cfg.data.patch_size, cfg.seed, pair,
                              augment=getattr(cfg.data, "augment", True), augment_fn=augment)
