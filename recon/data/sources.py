"""Built-in data sources that work offline (data shipped inside installed packages).

- ``mni152``: the MNI ICBM152 2009a template nilearn ships (197 x 233 x 189, 1 mm, RAS):
  the real skull-stripped T1 plus T2- and PD-weighted volumes simulated from its grey/white
  matter maps and CSF (brain mask minus GM and WM), see :mod:`recon.data.contrasts`.
- ``natural``: real photographs shipped by scikit-image and scikit-learn (RGB, [0, 1]).
- ``faces``: scikit-image's ``lfw_subset``, 200 gray 25 x 25 faces (limited-data generation).

Decoded arrays go through :mod:`recon.data.cache` (memory, then disk), so only the very
first load imports nilearn / scikit-learn. Sources are registered through the
``register_data_sources`` hook (:mod:`recon.builtin`); third-party plugins add theirs the
same way.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

from recon.data import contrasts
from recon.data.cache import cached_arrays, package_version
from recon.data.volume import Volume
from recon.errors import DataError

#: photographs only: the synthetic ``colorwheel`` (flat colour fields: x4 bicubic scored 57 dB
#: on its centre crop and dominated the srgan test mean) and ``hubble_deep_field`` (mostly
#: black sky) are left out; ``motorcycle_left`` is used where scikit-image has it locally.
#: ``cat`` is not here: it is the same photograph as ``chelsea`` (the validation split held
#: one photograph twice); ``grass`` (a texture photograph) takes its place in the order, so
#: the seeded train and test splits are unchanged.
NATURAL_IMAGES = (
    "astronaut", "coffee", "chelsea", "rocket", "motorcycle_left", "immunohistochemistry",
    "retina", "camera", "grass",
)
SKLEARN_IMAGES = ("china.jpg", "flower.jpg")
MNI152_KINDS = ("t1", "gm", "wm", "mask")


def _load_mni152_nilearn(kind: str) -> dict[str, np.ndarray]:
    from nilearn import datasets

    loaders = {
        "t1": datasets.load_mni152_template,
        "gm": datasets.load_mni152_gm_template,
        "wm": datasets.load_mni152_wm_template,
        "mask": datasets.load_mni152_brain_mask,
    }
    img = loaders[kind](resolution=1)
    dtype = np.uint8 if kind == "mask" else np.float32
    return {"array": np.asarray(img.get_fdata(dtype=np.float32)).astype(dtype),
            "affine": np.asarray(img.affine, dtype=np.float64)}


@functools.lru_cache(maxsize=4)
def _mni152(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(array (X, Y, Z), affine (4, 4))`` of a nilearn MNI152 map, memory- and disk-cached."""
    if kind not in MNI152_KINDS:
        raise ValueError(f"unknown MNI152 map '{kind}'; valid: {', '.join(MNI152_KINDS)}")
    key = f"mni152-{kind}-nilearn{package_version('nilearn')}"
    data = cached_arrays(key, lambda: _load_mni152_nilearn(kind))
    array = data["array"].astype(np.float32, copy=False)
    array.setflags(write=False)  # shared by every caller: never modified in place
    return array, data["affine"]


def mni152_tissue(kind: str) -> np.ndarray:
    """nilearn's grey matter (``gm``), white matter (``wm``), brain ``mask`` or ``t1``, ``(X, Y, Z)``.

    ``csf`` is derived: the brain mask minus grey and white matter.
    """
    if kind == "csf":
        return contrasts.csf_fraction(_mni152("mask")[0], _mni152("gm")[0], _mni152("wm")[0])
    return _mni152(kind)[0].copy()


def mni152(contrast: str = "t1", rician_noise: float = 0.0, seed: int = 0) -> Volume:
    """The MNI152 brain in one contrast as a ``(1, 197, 233, 189)`` Volume (RAS, 1 mm).

    Args:
        contrast: ``t1`` (nilearn's real template, scaled to max 1), ``t2`` / ``pd`` (simulated
            spin-echo, brightest pure tissue = 1), or ``t1sim`` (a simulated T1-weighted volume).
        rician_noise: noise std relative to the brightest tissue (0.03 = BrainWeb's "3 %").
        seed: seed of the noise.
    Returns:
        float32 values in [0, 1]; voxels that noise pushes above 1 are clipped.
    """
    if contrast not in contrasts.CONTRASTS:
        raise DataError(f"mni152: unknown contrast '{contrast}'; valid: {', '.join(contrasts.CONTRASTS)}")
    if rician_noise < 0:
        raise DataError(f"mni152: rician_noise must be >= 0, got {rician_noise}")
    affine = _mni152("t1")[1]
    if contrast == "t1":
        t1 = _mni152("t1")[0]
        array = t1 / max(float(t1.max()), 1e-8)
    else:
        gm, wm = _mni152("gm")[0], _mni152("wm")[0]
        fractions = {"gm": gm, "wm": wm, "csf": contrasts.csf_fraction(_mni152("mask")[0], gm, wm)}
        array = contrasts.simulate(fractions, "t1" if contrast == "t1sim" else contrast)
    norm = {"method": "max", "offset": 0.0, "scale": 1.0}
    if rician_noise > 0:
        array = np.clip(contrasts.rician_noise(array, rician_noise, np.random.default_rng(seed)), 0.0, 1.0)
        norm["rician_noise"] = rician_noise
    return Volume(np.ascontiguousarray(array, dtype=np.float32)[None], affine.copy(), f"mni152:{contrast}", norm)


def _to_chw(array: np.ndarray) -> np.ndarray:
    """An ``(H, W)`` or ``(H, W, C)`` image of any dtype -> ``(3, H, W)`` float32 in [0, 1]."""
    array = np.asarray(array)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    array = array[..., :3]
    scale = 65535.0 if array.dtype == np.uint16 else 255.0 if array.dtype == np.uint8 else 1.0
    return np.ascontiguousarray(array.transpose(2, 0, 1).astype(np.float32) / scale)


def _load_natural() -> dict[str, np.ndarray]:
    import skimage.data
    from sklearn.datasets import load_sample_image

    images: dict[str, np.ndarray] = {}
    for name in NATURAL_IMAGES:
        loader = getattr(skimage.data, name, None)
        if loader is None:
            continue
        data = loader()
        images[f"skimage:{name}"] = _to_chw(data[0] if isinstance(data, tuple) else data)
    for name in SKLEARN_IMAGES:
        images[f"sklearn:{name}"] = _to_chw(load_sample_image(name))
    return images


@functools.lru_cache(maxsize=1)
def natural_images() -> tuple[Volume, ...]:
    """RGB photographs from scikit-image and scikit-learn, each ``(3, H, W)`` in [0, 1].

    Gray images (camera) are repeated to 3 channels so every image has the same layout.
    """
    names = hashlib.sha256(",".join(NATURAL_IMAGES + SKLEARN_IMAGES).encode()).hexdigest()[:8]
    key = (f"natural-skimage{package_version('scikit-image')}-sklearn{package_version('scikit-learn')}"
           f"-{names}")  # the list is part of the identity: a stale cache must not drop an image
    images = cached_arrays(key, _load_natural)
    order = [f"skimage:{n}" for n in NATURAL_IMAGES] + [f"sklearn:{n}" for n in SKLEARN_IMAGES]
    return tuple(Volume(images[name], np.eye(4), name) for name in order if name in images)


def _load_faces() -> dict[str, np.ndarray]:
    import skimage.data

    return {"faces": np.asarray(skimage.data.lfw_subset(), dtype=np.float32)}


@functools.lru_cache(maxsize=1)
def faces() -> tuple[Volume, ...]:
    """scikit-image's ``lfw_subset``: 200 gray faces, each a ``(1, 25, 25)`` Volume in [0, 1]."""
    stack = cached_arrays(f"faces-skimage{package_version('scikit-image')}", _load_faces)["faces"]
    return tuple(Volume(np.ascontiguousarray(face[None]), np.eye(4), f"skimage:lfw_subset[{i}]")
                 for i, face in enumerate(stack))
