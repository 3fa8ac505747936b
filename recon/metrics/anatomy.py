"""Anatomical plausibility of generated brain images: tissue fractions, brain and ventricle size.

A fixed intensity rule, not a segmentation: it measures real and generated images the same
way, so the *distributions* of the properties can be compared (FID says whether samples
look like the data; these say whether the anatomy they draw has the data's proportions).

Rule (:func:`tissue_thresholds`, fitted **once**, on the real images):

* a 4-class multi-Otsu fit (``skimage.filters.threshold_multiotsu`` on a 256-bin histogram of
  every pixel of the real images, over their range) gives thresholds ``background < low < high``,
  each the upper edge of its class's last bin (skimage reports the bin's centre; the edge
  assigns every pixel the class its histogram bin had in the fit);
* the three tissue classes, darkest first, are ``order``: ``("csf", "gm", "wm")`` for
  T1-weighted images (CSF dark, white matter bright), ``("wm", "gm", "csf")`` for T2- and
  PD-weighted ones.

Per image (:func:`anatomy_properties`, 2D slices or 3D volumes, the same thresholds for real
and generated images):

* **brain** mask = pixels ``>= background``, holes filled (``scipy.ndimage.binary_fill_holes``
  per image: dark ventricles inside the brain belong to it); ``brain`` = its pixel count /
  the image's pixel count (the area or volume as a fraction of the field of view);
* each brain pixel gets the class of its intensity: ``< low`` the darkest class (this includes
  filled holes below ``background``), ``[low, high)`` the middle one, ``>= high`` the brightest;
  ``csf``, ``gm``, ``wm`` = each class's pixel count / the brain's (they sum to 1; all 0 for
  an image without brain);
* **ventricles** = the CSF-class connected components (face connectivity) that do not touch
  the brain's boundary (brain pixels with a face neighbour outside the brain or at the image
  edge): the CSF enclosed by tissue, as opposed to sulcal and cisternal CSF on the surface;
  ``ventricles`` = their pixel count / the image's pixel count.

Partial-volume pixels at the brain surface take the darkest class (CSF in T1, WM in T2);
this is a bias of the rule, shared by both sets, not a property of the model.

Distances (:func:`anatomy_distances`): per property, the 1-D Wasserstein distance
(``scipy.stats.wasserstein_distance``, the earth mover's distance between the two empirical
distributions over images, in the property's units: a fraction) between real and generated
values, with the generated values' mean and standard deviation (``ddof=0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recon.errors import UsageError
from recon.metrics._inputs import check_finite, to_float64

__all__ = ["ANATOMY_PROPERTIES", "TissueThresholds", "anatomy_distances", "anatomy_properties",
           "tissue_thresholds"]

#: the properties :func:`anatomy_properties` returns, in report order
ANATOMY_PROPERTIES = ("csf", "gm", "wm", "brain", "ventricles")
T1_ORDER = ("csf", "gm", "wm")  # tissues from dark to bright in T1-weighted images
T2_ORDER = ("wm", "gm", "csf")  # T2- and PD-weighted images
NBINS = 256  # histogram bins of the multi-Otsu fit, over the real images' range


@dataclass(frozen=True)
class TissueThresholds:
    """The intensity rule of :func:`anatomy_properties` (values in the images' range, [0, 1]).

    Attributes:
        background: pixels below it are outside the brain (unless enclosed by brain).
        low: between the darkest and the middle tissue class.
        high: between the middle and the brightest tissue class.
        order: the tissue classes ``csf``, ``gm``, ``wm`` from dark to bright.
    """

    background: float
    low: float
    high: float
    order: tuple[str, str, str] = T1_ORDER

    def describe(self) -> str:
        dark, mid, bright = self.order
        return (f"background < {self.background:.4g} <= {dark} < {self.low:.4g} <= {mid} < "
                f"{self.high:.4g} <= {bright}")


def _gray(images: Any, spatial_dims: int, name: str) -> np.ndarray:
    """``(N, *spatial)`` or ``(N, C, *spatial)`` -> ``(N, *spatial)`` float64 (channel mean)."""
    if spatial_dims not in (2, 3):
        raise UsageError(f"spatial_dims must be 2 or 3, got {spatial_dims}")
    arr = to_float64(images, name)
    if arr.ndim == spatial_dims + 2:
        arr = arr.mean(axis=1)
    if arr.ndim != spatial_dims + 1:
        raise UsageError(f"{name}: expected (N, *spatial) or (N, C, *spatial) with {spatial_dims} spatial "
                         f"dims, got shape {tuple(arr.shape)}")
    check_finite(arr, name)
    return arr


def tissue_thresholds(real_images: Any, order: tuple[str, str, str] = T1_ORDER, *,
                      spatial_dims: int = 2) -> TissueThresholds:
    """Fit the rule on the real images: a 4-class multi-Otsu on all their pixels.

    Args:
        real_images: ``(N, *spatial)`` or ``(N, C, *spatial)`` (channels are averaged), values
            in [0, 1] (any range works: the thresholds are in the images' units).
        order: the tissue classes from dark to bright (:data:`T1_ORDER`, :data:`T2_ORDER`).
        spatial_dims: 2 (slices) or 3 (volumes).
    Raises:
        UsageError: ``order`` is not a permutation of csf/gm/wm, or the images have too few
            distinct values for four classes.
    """
    if sorted(order) != ["csf", "gm", "wm"]:
        raise UsageError(f"order must list csf, gm and wm once each, got {order}")
    from skimage.filters import threshold_multiotsu

    pixels = _gray(real_images, spatial_dims, "real_images").ravel()
    counts, edges = np.histogram(pixels, bins=NBINS, range=(float(pixels.min()), float(pixels.max())))
    centres = (edges[:-1] + edges[1:]) / 2
    try:
        found = threshold_multiotsu(classes=4, hist=(counts, centres))
    except ValueError as exc:
        raise UsageError(f"cannot fit 4 intensity classes to the real images: {exc}") from None
    # skimage returns the centre of each class's last bin: the class ends at that bin's upper edge
    bins = np.searchsorted(centres, found)
    background, low, high = (float(edges[i + 1]) for i in bins)
    return TissueThresholds(background, low, high, (order[0], order[1], order[2]))


def _batch_structure(spatial_dims: int) -> np.ndarray:
    """Face connectivity within each image, none across the batch axis."""
    from scipy import ndimage

    inner = ndimage.generate_binary_structure(spatial_dims, 1)
    structure = np.zeros((3,) + inner.shape, dtype=bool)
    structure[1] = inner
    return structure


def anatomy_properties(images: Any, thresholds: TissueThresholds, *,
                       spatial_dims: int = 2) -> dict[str, np.ndarray]:
    """The properties of each image under ``thresholds`` (see the module docstring).

    Args:
        images: ``(N, *spatial)`` or ``(N, C, *spatial)`` (channels are averaged), e.g. the
            ``(N, 1, H, W)`` samples of a generator in [0, 1], or ``(N, D, H, W)`` volumes with
            ``spatial_dims=3``.
        thresholds: from :func:`tissue_thresholds` on the real images.
    Returns:
        ``{"csf", "gm", "wm", "brain", "ventricles"}``, each an ``(N,)`` float64 array:
        tissue fractions of the brain, brain and ventricle size as fractions of the image.
    """
    from scipy import ndimage

    gray = _gray(images, spatial_dims, "images")
    n = gray.shape[0]
    per_image = int(np.prod(gray.shape[1:]))
    structure = _batch_structure(spatial_dims)
    brain = ndimage.binary_fill_holes(gray >= thresholds.background, structure=structure)
    dark, mid, bright = thresholds.order
    classes = {dark: brain & (gray < thresholds.low),
               mid: brain & (gray >= thresholds.low) & (gray < thresholds.high),
               bright: brain & (gray >= thresholds.high)}
    axes = tuple(range(1, gray.ndim))
    brain_count = brain.sum(axis=axes).astype(np.float64)
    safe = np.maximum(brain_count, 1.0)  # an image without brain: every fraction 0
    out = {name: classes[name].sum(axis=axes) / safe for name in ("csf", "gm", "wm")}
    out["brain"] = brain_count / per_image
    # the boundary: brain pixels with a face neighbour outside the brain or beyond the image edge
    rim = brain & ~ndimage.binary_erosion(brain, structure=structure, border_value=0)
    labels, count = ndimage.label(classes["csf"], structure=structure)
    ventricles = classes["csf"].copy()
    if count:
        touching = np.unique(labels[rim & (labels > 0)])
        ventricles &= ~np.isin(labels, touching)
    out["ventricles"] = ventricles.reshape(n, -1).sum(axis=1) / per_image
    return {name: np.asarray(out[name], dtype=np.float64).reshape(n) for name in ANATOMY_PROPERTIES}


def anatomy_distances(real_props: dict[str, Any], fake_props: dict[str, Any],
                      prefix: str = "anat_") -> dict[str, float]:
    """Per property ``p`` of both sets: ``{prefix}w1_{p}`` (1-D Wasserstein distance between the
    real and the generated values), ``{prefix}mean_{p}`` and ``{prefix}std_{p}`` (of the
    generated values, ``ddof=0``), in :data:`ANATOMY_PROPERTIES` order.

    Args:
        real_props, fake_props: :func:`anatomy_properties` of the real and the generated images
            (any number of images each, at least one).
    """
    from scipy.stats import wasserstein_distance

    w1: dict[str, float] = {}
    summary: dict[str, float] = {}
    names = [p for p in ANATOMY_PROPERTIES if p in real_props and p in fake_props]
    names += sorted(set(real_props) & set(fake_props) - set(names))
    for name in names:
        real = np.asarray(real_props[name], dtype=np.float64).ravel()
        fake = np.asarray(fake_props[name], dtype=np.float64).ravel()
        if real.size == 0 or fake.size == 0:
            raise UsageError(f"anatomy property '{name}': no values (real {real.size}, generated {fake.size})")
        w1[f"{prefix}w1_{name}"] = float(wasserstein_distance(real, fake))
        summary[f"{prefix}mean_{name}"] = float(fake.mean())
        summary[f"{prefix}std_{name}"] = float(fake.std())
    return {**w1, **summary}
