"""Built-in data sources that work offline (data shipped inside installed packages).

- ``mni152``: the MNI ICBM152 2009 T1 template that nilearn ships (197 x 233 x 189, 1 mm).
- ``natural``: real photographs shipped by scikit-image and scikit-learn (RGB, [0, 1]).

Sources are registered through the ``register_data_sources`` hook (see
:mod:`recon.data.builtin`), so third-party plugins add theirs the same way.
"""

from __future__ import annotations

import functools

import numpy as np

from recon.data.volume import Volume

NATURAL_IMAGES = (
    "astronaut", "coffee", "chelsea", "rocket", "motorcycle_left", "immunohistochemistry",
    "hubble_deep_field", "retina", "camera", "cat", "colorwheel",
)
SKLEARN_IMAGES = ("china.jpg", "flower.jpg")


@functools.lru_cache(maxsize=4)
def _mni152(kind: str) -> tuple[np.ndarray, np.ndarray]:
    from nilearn import datasets

    loaders = {
        "t1": datasets.load_mni152_template,
        "gm": datasets.load_mni152_gm_template,
        "wm": datasets.load_mni152_wm_template,
        "mask": datasets.load_mni152_brain_mask,
    }
    img = loaders[kind](resolution=1)
    return np.asarray(img.get_fdata(), dtype=np.float32), np.asarray(img.affine, dtype=np.float64)


def mni152(contrast: str = "t1") -> Volume:
    """The MNI152 template as a ``(1, 197, 233, 189)`` Volume in [0, 1] (RAS, 1 mm).

    Only ``t1`` is real data; other contrasts are simulated by the data layer.
    """
    array, affine = _mni152(contrast)
    array = array / max(float(array.max()), 1e-8)
    return Volume(array[None].copy(), affine, f"mni152:{contrast}", {"method": "max", "offset": 0.0, "scale": 1.0})


def mni152_tissue(kind: str) -> np.ndarray:
    """nilearn's grey matter (``gm``), white matter (``wm``) or brain ``mask`` map, ``(X, Y, Z)``."""
    return _mni152(kind)[0].copy()


@functools.lru_cache(maxsize=1)
def natural_images() -> tuple[Volume, ...]:
    """RGB photographs from scikit-image and scikit-learn, each ``(3, H, W)`` in [0, 1].

    Gray images (camera) are repeated to 3 channels so every image has the same layout.
    """
    import skimage.data
    from sklearn.datasets import load_sample_image

    images = []
    for name in NATURAL_IMAGES:
        loader = getattr(skimage.data, name, None)
        if loader is None:
            continue
        data = loader()
        if isinstance(data, tuple):
            data = data[0]
        images.append((f"skimage:{name}", data))
    for name in SKLEARN_IMAGES:
        images.append((f"sklearn:{name}", load_sample_image(name)))
    volumes = []
    for source, data in images:
        array = np.asarray(data)
        if array.ndim == 2:
            array = np.repeat(array[..., None], 3, axis=2)
        array = array[..., :3]
        scale = 65535.0 if array.dtype == np.uint16 else 255.0 if array.dtype == np.uint8 else 1.0
        chw = np.ascontiguousarray(array.transpose(2, 0, 1).astype(np.float32) / scale)
        volumes.append(Volume(chw, np.eye(4), source))
    return tuple(volumes)
