"""Real images and volumes for ``progan``, in [0, 1].

2D (``model.spatial_dims=2``): the images of ``data.source`` (the built-in ``faces``: 200 gray
25 x 25 lfw faces; ``mni152``: axial slices of the MNI152 template; a user folder or file via
``--data``), split by core (:func:`recon.api.load_split_images`). Slices of 3D volumes are
rotated so anterior/superior points up; every image is made square (``data.square``) and
resized to ``model.resolution`` (bicubic, antialiased when shrinking).

3D (``model.spatial_dims=3``): each split's volume (a slab of the single MNI152 brain, or the
user's volumes; :func:`recon.api.load_split_volumes`) is rescaled by ``data.volume_scale``
(area interpolation) and cut into ``resolution``-cubed crops that hold at least
``data.crop_min_foreground`` brain (voxels above 0.1): training crop ``i`` is a pure function
of ``(seed, i)`` (:class:`VolumeCrops`), evaluation crops a fixed seeded set per split
(:func:`fixed_crops`). :func:`montage` turns volumes into the 2D images FID is computed on.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import resize_square, square_image
from recon.api import DataError, ImageSpec, RunConfig, load_options, load_source, load_split_images, load_split_volumes

__all__ = ["VolumeCrops", "fixed_crops", "image_spec", "montage", "split_images", "split_volumes"]

FOREGROUND = 0.1  # intensity above which a voxel counts as brain (data in [0, 1])
CROP_TRIES = 20


def image_spec(cfg: RunConfig) -> ImageSpec:
    """Core's loader spec for ``cfg.data`` (hashable, so loads are cached per process)."""
    from recon.api import image_spec as core_spec

    return core_spec(cfg, channels=cfg.data.channels)


# -- 2D ---------------------------------------------------------------------------------------
# shared with every unconditional task (recon.generation), under the names this plugin uses
to_square, resize = square_image, resize_square


@functools.lru_cache(maxsize=8)
def _split_tensor(spec: ImageSpec, split: str, resolution: int, square: str) -> Tensor:
    loaded = load_source(spec.source, load_options(spec), spec.role)
    volumes = any(v.spatial_dims == 3 for v in loaded.volumes)
    mode = square if square != "auto" else ("pad" if volumes else "crop")
    tensors = [torch.from_numpy(a.copy()) for _, a in load_split_images(spec, split)]
    if volumes:  # slices of RAS volumes: the second in-plane axis up (anterior / superior up)
        tensors = [torch.rot90(t, 1, dims=(-2, -1)) for t in tensors]
    return torch.stack([resize(to_square(t, mode), resolution) for t in tensors]).contiguous()


def split_images(cfg: RunConfig, split: str) -> Tensor:
    """All 2D images of ``split``: ``(M, C, R, R)`` float32 in [0, 1] (shared: do not modify)."""
    return _split_tensor(image_spec(cfg), split, cfg.model.resolution, cfg.data.square)


# -- 3D ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _volumes(spec: ImageSpec, split: str, scale: float, resolution: int) -> tuple[Tensor, ...]:
    out = []
    for vid, array in load_split_volumes(spec, split):
        volume = torch.from_numpy(array.copy())
        if scale != 1.0:
            size = [max(1, round(s * scale)) for s in volume.shape[1:]]
            volume = F.interpolate(volume[None], size=size, mode="area")[0]
        if min(volume.shape[1:]) < resolution:
            raise DataError(f"the {split} volume {vid} of {spec.source} is {tuple(volume.shape[1:])} voxels after "
                            f"data.volume_scale={scale}: smaller than the {resolution}^3 crops; lower "
                            "model.resolution, raise data.volume_scale or give the split a thicker slab "
                            "(data.test_fraction / data.val_fraction)")
        out.append(volume.clamp(0, 1).contiguous())
    return tuple(out)


def split_volumes(cfg: RunConfig, split: str) -> tuple[Tensor, ...]:
    """The 3D volumes of ``split``, each ``(C, X, Y, Z)`` in [0, 1], rescaled by ``data.volume_scale``."""
    return _volumes(image_spec(cfg), split, float(cfg.data.volume_scale), int(cfg.model.resolution))


def draw_crop(volumes: tuple[Tensor, ...], size: int, rng: torch.Generator, min_foreground: float) -> Tensor:
    """A ``(C, size, size, size)`` crop of a uniformly drawn volume with at least ``min_foreground``
    of its voxels above :data:`FOREGROUND` (redrawn up to :data:`CROP_TRIES` times, else the
    best one drawn)."""
    best, best_fg = None, -1.0
    for _ in range(CROP_TRIES):
        volume = volumes[int(torch.randint(0, len(volumes), (1,), generator=rng))]
        corner = [int(torch.randint(0, s - size + 1, (1,), generator=rng)) for s in volume.shape[1:]]
        crop = volume[:, corner[0]:corner[0] + size, corner[1]:corner[1] + size, corner[2]:corner[2] + size]
        fg = float((crop.mean(0) > FOREGROUND).float().mean())
        if fg > best_fg:
            best, best_fg = crop, fg
        if fg >= min_foreground:
            break
    assert best is not None
    return best


class VolumeCrops(Dataset):
    """Training crops: item ``i`` is ``{"target": (C, R, R, R)}``, a pure function of ``(seed, i)``
    (:func:`draw_crop`, then a left-right flip with probability 1/2 when ``xflip``)."""

    def __init__(self, volumes: tuple[Tensor, ...], size: int, seed: int, min_foreground: float,
                 xflip: bool, length: int = 2**31 - 1) -> None:
        self.images, self.size, self.seed, self.min_foreground = volumes, size, seed, min_foreground
        self.xflip, self.length = xflip, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        from recon.api import sample_generator

        rng = sample_generator(self.seed, index)
        crop = draw_crop(self.images, self.size, rng, self.min_foreground)
        if self.xflip and int(torch.randint(0, 2, (1,), generator=rng)):
            crop = crop.flip(1)  # RAS: the first spatial axis is left-right
        return {"target": crop.contiguous()}


def fixed_crops(cfg: RunConfig, split: str, count: int) -> Tensor:
    """``(count, C, R, R, R)``: the evaluation crops of ``split``, the same for every call
    (drawn from a generator seeded by ``(seed, split)``, no flips)."""
    return _fixed(image_spec(cfg), split, float(cfg.data.volume_scale), int(cfg.model.resolution), count,
                  float(cfg.data.crop_min_foreground), int(cfg.seed))


@functools.lru_cache(maxsize=8)
def _fixed(spec: ImageSpec, split: str, scale: float, size: int, count: int, min_fg: float, seed: int) -> Tensor:
    volumes = _volumes(spec, split, scale, size)
    rng = torch.Generator().manual_seed(seed * 1_000_003 + ("train", "val", "test").index(split) + 17)
    return torch.stack([draw_crop(volumes, size, rng, min_fg) for _ in range(count)]).contiguous()


def montage(volumes: Tensor) -> Tensor:
    """``(N, C, R, R, R)`` RAS volumes -> ``(N, C, R, 3R)``: the central axial, coronal and sagittal
    slices side by side, each turned so anterior (axial) or superior (coronal, sagittal) is up."""
    r = volumes.shape[-1] // 2
    axial = volumes[..., r]  # (N, C, X, Y)
    coronal = volumes[:, :, :, r, :]  # (N, C, X, Z)
    sagittal = volumes[:, :, r, :, :]  # (N, C, Y, Z)
    return torch.cat([torch.rot90(s, 1, dims=(-2, -1)) for s in (axial, coronal, sagittal)], dim=-1).contiguous()
