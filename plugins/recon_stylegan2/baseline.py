"""The classical generative baseline: a Gaussian fitted to the training images (PCA form).

``x ~ N(mu, Sigma)`` over all pixels, with ``mu`` the mean training image and ``Sigma`` the
sample covariance of the ``M`` training images (rank ``M - 1``). Sampling uses its principal
components: with the centred images ``X_c = U S V^T`` (thin SVD),
``x = mu + V^T (S / sqrt(M - 1) * eps)``, ``eps ~ N(0, I)``, clamped to [0, 1]. This is the
maximum-likelihood Gaussian of the data (the "eigenfaces" model): it reproduces the first
two moments exactly, so it is what a GAN must beat to show it learned more than
second-order statistics.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from recon.api import ReferenceSamples, RunConfig

__all__ = ["GaussianImageModel", "gaussian_samples", "training_images"]


class GaussianImageModel:
    """A full-covariance Gaussian over images, fitted in closed form.

    Args:
        images: ``(M, C, H, W)`` training images in [0, 1], ``M >= 2``.
    """

    name = "gaussian (PCA fit to the training images)"

    def __init__(self, images: Tensor) -> None:
        if images.ndim != 4 or images.shape[0] < 2:
            raise ValueError(f"need (M >= 2, C, H, W) images, got {tuple(images.shape)}")
        self.shape = tuple(images.shape[1:])
        flat = images.detach().reshape(images.shape[0], -1).double().cpu()
        self.mean = flat.mean(0)
        _, s, vh = torch.linalg.svd(flat - self.mean, full_matrices=False)
        keep = s > s.max() * 1e-10 if s.numel() else s.bool()
        self.scales = s[keep] / math.sqrt(images.shape[0] - 1)  # (K,) standard deviations
        self.components = vh[keep]  # (K, D) orthonormal rows

    @property
    def covariance(self) -> Tensor:
        """``(D, D)`` covariance implied by the components (for tests; large for big images)."""
        return self.components.T @ torch.diag(self.scales**2) @ self.components

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``(n, C, H, W)`` float32 samples in [0, 1] drawn with a CPU ``generator``."""
        eps = torch.randn(n, self.scales.shape[0], generator=generator, dtype=torch.float64)
        flat = self.mean + (eps * self.scales) @ self.components
        return flat.reshape(n, *self.shape).clamp(0, 1).float()


def gaussian_fit_size(train: Tensor, max_elements: int = 200_000_000) -> int:
    """How many training images the Gaussian is fitted to: all, up to 1000 and ``max_elements`` values."""
    per_image = int(math.prod(train.shape[1:]))
    return max(2, min(train.shape[0], 1000, max_elements // per_image))


def gaussian_samples(cfg: RunConfig, split: str, n: int, seed: int) -> ReferenceSamples | str:
    """The classical baseline row: ``n`` samples (seed ``seed``) of the Gaussian fitted to the
    training images."""
    from recon_stylegan2.data import split_images

    train = split_images(cfg, "train")
    if train.shape[0] < 2:
        return "not computed: the Gaussian needs at least 2 training images"
    fit = train[:gaussian_fit_size(train)]
    return ReferenceSamples(lambda: GaussianImageModel(fit).sample(n, torch.Generator().manual_seed(seed)),
                            f"{GaussianImageModel.name}, fitted to {fit.shape[0]} training images")


def training_images(cfg: RunConfig, split: str, n: int, seed: int) -> ReferenceSamples | str:
    """Up to ``n`` real training images scored as if generated: the score of a model that
    memorised the training set, i.e. the floor FID/KID reach with this few real images."""
    from recon_stylegan2.data import split_images

    if not cfg.data.holdout:
        return "not computed: the training images are the evaluation images (data.holdout=false)"
    if split == "train":
        return "not computed: the training split is the evaluated split"
    train = split_images(cfg, "train")
    if train.shape[0] < 2:
        return "not computed: fewer than 2 training images"
    reference = train[:n]
    return ReferenceSamples(lambda: reference, f"{reference.shape[0]} real training images scored as samples")
