"""Sample baselines of ``progan``, scored by core's generative evaluation as if generated.

* ``gaussian``: the maximum-likelihood Gaussian of the training images (the "eigenfaces"
  model, PCA form): ``x = mu + V^T (S / sqrt(M - 1) * eps)`` from the thin SVD
  ``X_c = U S V^T`` of the ``M`` centred training images (or training crops, for 3D), clamped
  to [0, 1]. It reproduces the first two moments exactly: what a GAN must beat to show it
  learned more than second-order statistics.
* ``training images``: real training images (crops) scored as samples: the floor FID/KID
  reach with this few real images.

3D rows are scored, like the model, on montages of the volumes' central slices.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from recon.api import ReferenceSamples, RunConfig

__all__ = ["GaussianImages", "gaussian_samples", "training_images", "training_set"]

FIT_CROPS = 500  # 3D: training crops the Gaussian is fitted to / scored from


class GaussianImages:
    """A full-covariance Gaussian over ``(M, *shape)`` images in [0, 1], fitted in closed form."""

    def __init__(self, images: Tensor) -> None:
        if images.shape[0] < 2:
            raise ValueError(f"need at least 2 images, got {images.shape[0]}")
        self.shape = tuple(images.shape[1:])
        flat = images.detach().reshape(images.shape[0], -1).double().cpu()
        self.mean = flat.mean(0)
        _, s, vh = torch.linalg.svd(flat - self.mean, full_matrices=False)
        keep = s > s.max() * 1e-10
        self.scales = s[keep] / math.sqrt(images.shape[0] - 1)  # (K,) standard deviations
        self.components = vh[keep]  # (K, D) orthonormal rows

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``(n, *shape)`` float32 samples in [0, 1] drawn with a CPU ``generator``."""
        eps = torch.randn(n, self.scales.shape[0], generator=generator, dtype=torch.float64)
        return (self.mean + (eps * self.scales) @ self.components).reshape(n, *self.shape).clamp(0, 1).float()


def training_set(cfg: RunConfig) -> Tensor:
    """The training images ``(M, C, R, R)``, or ``FIT_CROPS`` fixed training crops ``(M, C, R, R, R)`` (3D)."""
    from recon_progan import data

    if cfg.model.spatial_dims == 3:
        return data.fixed_crops(cfg, "train", FIT_CROPS)
    return data.split_images(cfg, "train")


def _as_scored(images: Tensor) -> Tensor:
    from recon_progan.data import montage

    return montage(images) if images.dim() == 5 else images


def gaussian_samples(cfg: RunConfig, split: str, n: int, seed: int) -> ReferenceSamples | str:
    """``n`` samples (seed ``seed``) of the Gaussian fitted to (up to 1000) training images."""
    train = training_set(cfg)
    if train.shape[0] < 2:
        return "not computed: the Gaussian needs at least 2 training images"
    fit = train[:1000]
    return ReferenceSamples(lambda: _as_scored(GaussianImages(fit).sample(n, torch.Generator().manual_seed(seed))),
                            f"gaussian (PCA fit to {fit.shape[0]} training {'crops' if fit.dim() == 5 else 'images'})")


def training_images(cfg: RunConfig, split: str, n: int, seed: int) -> ReferenceSamples | str:
    """Up to ``n`` real training images (crops) scored as if generated."""
    if not cfg.data.holdout:
        return "not computed: the training images are the evaluation images (data.holdout=false)"
    if split == "train":
        return "not computed: the training split is the evaluated split"
    train = training_set(cfg)[:n]
    if train.shape[0] < 2:
        return "not computed: fewer than 2 training images"
    return ReferenceSamples(lambda: _as_scored(train), f"{train.shape[0]} real training images scored as samples")
