"""Images for unconditional training: square, ``model.resolution`` pixels, values in [0, 1].

Sources (``data.source``): the built-in ``faces`` (scikit-image's lfw_subset, 200 gray
25 x 25 faces), ``mni152`` (axial T1 slices of the MNI152 brain) or any other registered
source, and the user's own folder or file (``--data``); loading and the train/val/test
split are :func:`recon.data.images2d.load_split_images`'s.

Slices of 3D volumes are rotated by 90 degrees so the second in-plane axis points up
(anterior up for axial slices of RAS volumes, superior up for coronal and sagittal ones).
Each image is made square (``data.square``: centre-crop, or zero-pad; ``auto`` pads the
slices of 3D volumes so no anatomy is cut and crops 2D images, as StyleGAN's
dataset_tool does) and resized to ``model.resolution`` (bicubic, antialiased when
shrinking). Core's :class:`recon.api.ImageSamples` (training item ``i`` a pure function of
``(seed, i)``: a uniformly drawn image with the configured dataset augmentation,
``data.augment``: none, ``xflip`` or the 8 ``dihedral`` flips/rotations) and
:class:`recon.api.ImageList` (evaluation) serve them: items ``{"target": (C, R, R)}`` in
[0, 1]; evaluation items add ``"volume"`` (the image's index).
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from recon.api import resize_square, square_image
from recon.api import RunConfig
from recon.api import load_source
from recon.api import ImageSpec, load_options, load_split_images

__all__ = ["class_names", "image_spec", "split_images", "split_labelled", "to_square"]


def image_spec(cfg: RunConfig) -> ImageSpec:
    """The loader's spec for ``cfg.data`` (core's, every file option; hashable: loads are cached
    per process)."""
    from recon.api import image_spec as core_spec

    return core_spec(cfg, channels=cfg.data.channels)


def _has_volumes(spec: ImageSpec) -> bool:
    loaded = load_source(spec.source, load_options(spec), spec.role)
    return any(v.spatial_dims == 3 for v in loaded.volumes)


# shared with every unconditional task (recon.generation), under the names this plugin uses
to_square, resize = square_image, resize_square


@functools.lru_cache(maxsize=8)
def _split_tensor(spec: ImageSpec, split: str, resolution: int, square: str) -> Tensor:
    images = load_split_images(spec, split)
    volumes = _has_volumes(spec)
    mode = square if square != "auto" else ("pad" if volumes else "crop")
    tensors = [torch.from_numpy(a.copy()) for _, a in images]
    if volumes:  # slices of RAS volumes: the second in-plane axis upwards (anterior/superior up)
        tensors = [torch.rot90(t, 1, dims=(-2, -1)) for t in tensors]
    out = [resize(to_square(t, mode), resolution) for t in tensors]
    stacked = torch.stack(out).contiguous()
    stacked.requires_grad_(False)
    return stacked


def split_images(cfg: RunConfig, split: str) -> Tensor:
    """All images of ``split`` as one ``(M, C, R, R)`` float32 tensor in [0, 1] (do not modify)."""
    return _split_tensor(image_spec(cfg), split, cfg.model.resolution, cfg.data.square)


# -- class labels (conditional StyleGAN2, ``data.labels``) ------------------------------------
def class_names(cfg: RunConfig) -> list[str]:
    """The class names of ``data.labels`` in class-index order (empty: unconditional).

    ``contrast``: t1, t2, pd; ``folder`` / ``csv``: the sorted names of the image files' parent
    folders / their classes in ``data.labels_file`` (over every split, so each split indexes the
    classes alike); ``data.class_names``, when set
    (as a checkpoint's config has it), is used as it is.
    """
    from recon_stylegan2.config import CONTRAST_CLASSES

    d = cfg.data
    if not d.labels:
        return []
    if d.class_names:
        return list(d.class_names)
    if d.labels == "contrast":
        return list(CONTRAST_CLASSES)
    from recon.api import DataError

    files: list[str] = []
    for split in ("train", "val", "test"):
        try:
            files.extend(_source_files(image_spec(cfg), split))
        except DataError:  # an empty split adds no class
            pass
    names = sorted(set(_labels_of_files(cfg, files)) - {""})
    if not names:
        raise DataError(f"data.labels={d.labels}: no image of {d.source} has a class")
    return names


def _labels_of_files(cfg: RunConfig, files: list[str]) -> list[str]:
    """The class name of each image file for ``data.labels`` = folder (its parent folder's
    name) or csv (its row of ``data.labels_file``)."""
    from pathlib import Path

    d = cfg.data
    if d.labels == "csv":
        from recon_stylegan2.label_table import labels_of

        return labels_of(files, d.labels_file, d.labels_path_column, d.labels_column)
    return [Path(file).parent.name for file in files]


@functools.lru_cache(maxsize=8)
def _source_files(spec: ImageSpec, split: str) -> tuple[str, ...]:
    """The file each image of ``split`` was read from, in the split's order."""
    loaded = load_source(spec.source, load_options(spec), spec.role)
    return tuple(str(loaded.volumes[vid].source) for vid, _ in load_split_images(spec, split))


def split_labelled(cfg: RunConfig, split: str) -> tuple[Tensor, Tensor | None]:
    """``(images (M, C, R, R), labels (M,) int64 or None)`` of ``split`` for ``data.labels``.

    ``contrast``: the slices of ``mni152:t1``, ``mni152:t2`` and ``mni152:pd`` (the same slicing
    and split of the one template), concatenated, each labelled by its contrast's index;
    ``folder``: the images of ``data.source``, labelled by their parent folder's class index;
    ``csv``: labelled by the class in their row of ``data.labels_file``.
    """
    from dataclasses import replace

    d = cfg.data
    if not d.labels:
        return split_images(cfg, split), None
    names = class_names(cfg)
    spec = image_spec(cfg)
    if d.labels == "contrast":
        parts, labels = [], []
        for index, contrast in enumerate(names):
            images = _split_tensor(replace(spec, source=f"mni152:{contrast}"), split, cfg.model.resolution, d.square)
            parts.append(images)
            labels.append(torch.full((images.shape[0],), index, dtype=torch.int64))
        return torch.cat(parts), torch.cat(labels)
    images = _split_tensor(spec, split, cfg.model.resolution, d.square)
    found = _labels_of_files(cfg, list(_source_files(spec, split)))
    where = (f"data.labels_file={d.labels_file}: classes" if d.labels == "csv"
             else "data.labels=folder: images in folders")
    unknown = sorted(set(found) - set(names))
    if unknown:
        from recon.api import DataError

        raise DataError(f"{where} {', '.join(unknown)} are not among data.class_names ({', '.join(names)})")
    return images, torch.tensor([names.index(f) for f in found], dtype=torch.int64)
