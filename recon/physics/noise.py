"""Additive white Gaussian noise: the operator of denoising tasks.

``y = x + sigma * n`` with ``n`` standard normal, drawn by :meth:`GaussianNoise.sample` so one
generator seed gives one noisy image. The pseudo-inverse is the noisy image itself (the
"noisy input" baseline); the operator is affine, not linear, so it has no adjoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import torch
from torch import Tensor

from recon.physics.operator import Operator

__all__ = ["GaussianNoise", "NoiseParams"]


@dataclass(frozen=True)
class NoiseParams:
    """The drawn noise ``n`` ``(N, C, H, W)`` (standard normal, before scaling)."""

    noise: Tensor


@dataclass(frozen=True, repr=False)
class GaussianNoise(Operator):
    """``y = x + sigma * n``: ``x`` ``(N, C, *spatial)`` -> ``y`` of the same shape.

    Args:
        sigma: the noise standard deviation, in the image's units (images in [0, 1]: 0.05 is 5 %).
    """

    sigma: float = 0.05
    baseline_name: ClassVar[str] = "noisy input"
    params_type: ClassVar[type | None] = NoiseParams

    def __post_init__(self) -> None:
        if not self.sigma >= 0:
            raise ValueError(f"GaussianNoise: sigma must be >= 0, got {self.sigma}")

    def sample(self, shape: Sequence[int], generator: torch.Generator | None = None) -> NoiseParams:
        """Standard-normal noise of ``shape`` drawn from ``generator``."""
        return NoiseParams(torch.randn(tuple(shape), generator=generator))

    def forward(self, x: Tensor, params: NoiseParams | None = None) -> Tensor:
        """``x + sigma * n`` (``params`` drawn with torch's global generator when ``None``)."""
        if params is None:
            params = self.sample(x.shape)
        return x + self.sigma * params.noise.to(x.device, x.dtype)

    def pseudo_inverse(self, y: Tensor, params: NoiseParams | None = None) -> Tensor:
        """The noisy image itself (no prior knows better without a model)."""
        return y
