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
from recon.data.device_measure import SplitSample
from recon.data.images2d import load_split_images
from recon.data.options import augment_spec, image_spec
from recon.data.patches import (RandomPatchDataset, Transform, area_weights, center_crop, check_patches_fit,
                                random_crop, random_flip_rotate, sample_generator, textured_crop, weighted_choice)

if TYPE_CHECKING:
    from recon.physics import Operator

__all__ = ["MeasuredCrops", "MeasurementPatches", "MeasurementSlices", "measurement_dataset", "measurement_pair",
           "params_from_batch"]

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
    with ``rng``, measure, and keep the parameters beside the input. It is a
    :class:`~recon.data.device_measure.SplitSample`: its measurement also runs batched on the
    training device (``data.simulate_on=device``, ``forward(target (N, C, H, W), params)``)."""

    def pair(clean: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
        x = clean.unsqueeze(0)
        params = operator.sample(x.shape, rng)
        sample: dict[str, Any] = {"input": operator(x, params)[0], "target": clean}
        if params is not None:
            sample["params"] = _per_sample(params)
        return sample

    def draw(clean: Tensor, rng: torch.Generator) -> dict[str, Any]:
        params = operator.sample(clean.unsqueeze(0).shape, rng)
        return {"target": clean} if params is None else {"target": clean, "params": _per_sample(params)}

    def measure(batch: dict[str, Any]) -> dict[str, Any]:
        return {"input": operator(batch["target"], params_from_batch(operator, batch)), **batch}

    from recon.physics.fourier import MaskedFourier

    refusal = ("its MaskedFourier column masks (1, W) lose their row dim when collated"
               if isinstance(operator, MaskedFourier) else "")
    return SplitSample(pair, draw, measure, refusal)


def _per_sample(params: Any) -> dict[str, Tensor]:
    """The parameters of a batch of one as a sample's (a leading 1 dropped), by field name."""
    return {k: v[0] if torch.is_tensor(v) and v.dim() > 0 and v.shape[0] == 1 else v
            for k, v in _params_to_batch(params).items()}


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
    """Whole images (slices or volumes) of an evaluation split, measured with parameters drawn
    from (0, index): ``{**pair(image, rng), "volume": id}``.

    Args:
        images: ``(volume_id, image (C, *spatial))`` pairs (:func:`recon.data.images2d.load_split_images`,
            :func:`recon.data.volumes3d.load_split_volumes`).
        pair: the sample maker (:func:`measurement_pair`, or a task's own ``(clean, rng) -> sample``).
        crop: centre-crop each image to this size first (0: whole), rounded down to ``multiple``.
    """

    def __init__(self, images: tuple[tuple[int, Any], ...], pair: Transform, crop: int = 0,
                 multiple: int = 1) -> None:
        self.images = images
        self.pair = pair
        self.crop, self.multiple = crop, multiple

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        volume_id, array = self.images[index]
        clean = center_crop(torch.as_tensor(array), self.crop, self.multiple)
        sample = self.pair(clean, sample_generator(EVAL_SEED, index))
        sample["volume"] = torch.tensor(volume_id)
        return sample


class MeasurementPatches(Dataset):
    """``per_image`` fixed patches of each evaluation image, measured: item ``k`` is a crop of
    image ``k // per_image`` whose position and measurement are drawn from (0, k), so every
    run is scored on the same patches (e.g. inpainting's holes).

    Args:
        images: ``(volume_id, image (C, H, W))`` pairs, each at least ``size`` on both sides.
        size, per_image: the patch side and the number of patches per image.
        pair: the sample maker ``(patch, rng) -> sample``.
        min_std: redraw flat patches (:func:`recon.data.patches.textured_crop`).
    """

    def __init__(self, images: tuple[tuple[int, Any], ...], size: int, per_image: int, pair: Transform,
                 min_std: float = 0.0) -> None:
        check_patches_fit([array for _, array in images], size, "evaluation image")
        self.images, self.size, self.per_image = images, size, per_image
        self.pair, self.min_std = pair, min_std

    def __len__(self) -> int:
        return len(self.images) * self.per_image

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        volume_id, array = self.images[index // self.per_image]
        rng = sample_generator(EVAL_SEED, index)
        sample = self.pair(textured_crop(torch.as_tensor(array), self.size, rng, self.min_std), rng)
        sample["volume"] = torch.tensor(volume_id)
        return sample


class MeasuredCrops(Dataset):
    """Training items measured on the whole image, then cropped: item ``i`` is a random image
    (by area), measured with the rng of (seed, i), then the same random ``size`` crop (0: none)
    and flip / rotation of every tensor of the sample. For measurements that depend on the
    whole field of view (motion in k-space: a rotation brings in background).

    Args:
        images: ``(C, H, W)`` clean images (of one size when ``size=0``).
        size, seed, augment: the crop side, the run seed, a random flip/rotation
            (:func:`recon.data.patches.random_flip_rotate`).
        measure: ``(clean, rng) -> sample``, every tensor ``(C_k, H, W)``.
        augment_fn: an optional augmentation ``(clean, rng) -> clean`` before the measurement
            (:func:`recon.data.augmentation.build_augmentation`).
    """

    def __init__(self, images: list[Tensor], size: int, seed: int, measure: Transform, augment: bool = True,
                 length: int = 2**31 - 1, augment_fn: Callable | None = None) -> None:
        check_patches_fit(images, size)
        self.images, self.size, self.seed, self.measure = images, size, seed, measure
        self.augment, self.length, self.augment_fn = augment, length, augment_fn
        self.weights = area_weights(images)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = sample_generator(self.seed, index)
        clean = self.images[weighted_choice(self.weights, rng)]
        if self.augment_fn is not None:  # the clean image, before it is measured
            clean = self.augment_fn(clean.contiguous(), rng)
        sample = self.measure(clean, rng)
        keys = list(sample)
        stacked = torch.cat([sample[k] for k in keys])  # crop and flip every tensor alike
        if self.size:
            stacked = random_crop(stacked, self.size, rng)
        if self.augment:
            stacked = random_flip_rotate(stacked, rng)
        out, start = {}, 0
        for key in keys:
            n = sample[key].shape[0]
            out[key] = stacked[start:start + n].contiguous()
            start += n
        return out


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
