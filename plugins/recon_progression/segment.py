"""The fixed segmentation every volumetric figure of ``mri_progression`` is measured with.

One rule, applied alike to true follow-ups, predictions and baselines (2D slices ``(H, W)``
with intensities in [0, 1], T1-weighted, skull-stripped, 2 mm pixels for the built-in data):

1. ``s`` = the image smoothed by a Gaussian of sigma 1 pixel; ``ref`` = its 99th percentile;
2. head = the largest connected component of ``s > 0.1 ref``, holes filled;
3. CSF = head pixels with ``s < 0.45 ref`` (T1: CSF is dark, grey and white matter bright);
4. ventricles = CSF pixels deeper than ``VENTRICLE_DEPTH`` pixels inside the head (the
   Euclidean distance to the head's edge), which leaves the sulcal CSF out;
5. brain (parenchyma) = head minus CSF.

Volumes use partial-volume fractions rather than counts of thresholded pixels (a hard
threshold flips boundary pixels with the noise): the tissue fraction of a pixel is
``p = clip((s - 0.3 ref) / (0.3 ref), 0, 1)`` (0 at the CSF level, 1 from the grey-matter
level up), the **brain volume** is the sum of ``p`` over the head, and the **ventricle
volume** the sum of ``1 - p`` over the ventricle mask dilated by 2 pixels (so the partial
pixels at its edge count). Both are in pixels; in a 2D slice they stand in for volumes (a slice's ventricle area
scales with the ventricle volume for the smooth, slab-wide deformations of the simulation).
Thresholds relative to ``ref`` make the rule insensitive to the per-visit intensity drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

SMOOTH_SIGMA = 1.0
HEAD_FRACTION = 0.1
CSF_FRACTION = 0.45
CSF_LEVEL = 0.3
TISSUE_LEVEL = 0.6
VENTRICLE_DEPTH = 8.0  # pixels (16 mm at the built-in 2 mm grid)


@dataclass(frozen=True)
class Segmentation:
    """Boolean masks ``(H, W)`` of one slice."""

    head: np.ndarray
    csf: np.ndarray
    ventricles: np.ndarray
    brain: np.ndarray
    tissue: np.ndarray  # (H, W) float tissue fraction p in [0, 1]

    @property
    def ventricle_region(self) -> np.ndarray:
        """The ventricle mask dilated by 2 pixels, inside the head."""
        return ndimage.binary_dilation(self.ventricles, iterations=2) & self.head

    @property
    def ventricle_area(self) -> float:
        """Partial-volume ventricle area in pixels."""
        return float((1.0 - self.tissue)[self.ventricle_region].sum())

    @property
    def brain_area(self) -> float:
        """Partial-volume parenchyma area in pixels."""
        return float(self.tissue[self.head].sum())


def segment(image: np.ndarray) -> Segmentation:
    """The fixed segmentation of a 2D slice ``(H, W)`` (or ``(1, H, W)``) in [0, 1]."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        image = image[0]
    s = ndimage.gaussian_filter(image, SMOOTH_SIGMA, mode="nearest")
    ref = float(np.percentile(s, 99))
    if ref <= 0:
        empty = np.zeros(image.shape, dtype=bool)
        return Segmentation(empty, empty, empty, empty, np.zeros(image.shape))
    labels, count = ndimage.label(s > HEAD_FRACTION * ref)
    if count == 0:
        empty = np.zeros(image.shape, dtype=bool)
        return Segmentation(empty, empty, empty, empty, np.zeros(image.shape))
    sizes = ndimage.sum_labels(np.ones_like(s), labels, index=np.arange(1, count + 1))
    head = ndimage.binary_fill_holes(labels == int(np.argmax(sizes)) + 1)
    csf = head & (s < CSF_FRACTION * ref)
    depth = ndimage.distance_transform_edt(head)
    ventricles = csf & (depth > VENTRICLE_DEPTH)
    tissue = np.clip((s - CSF_LEVEL * ref) / ((TISSUE_LEVEL - CSF_LEVEL) * ref), 0.0, 1.0)
    return Segmentation(head, csf, ventricles, head & ~csf, tissue)


def masks(image: np.ndarray) -> np.ndarray:
    """``(2, H, W)`` float32 soft maps whose sums are the ventricle and brain volumes of ``image``:
    ``1 - p`` in the ventricle region, ``p`` in the head (warped by a predicted deformation,
    their sums are the predicted volumes; the volume term of the loss)."""
    seg = segment(image)
    return np.stack([(1.0 - seg.tissue) * seg.ventricle_region, seg.tissue * seg.head]).astype(np.float32)
