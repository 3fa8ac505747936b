"""ProGAN's generator and discriminator, grown by :meth:`set_stage` (2D or 3D).

Both networks hold every resolution's layers from the start; the *stage* (``level``,
``alpha``; :mod:`recon_progan.schedule`) selects which run. Layers of levels above the stage
get no gradient (Adam skips them) until they are faded in. Widths follow
``channels(res) = min(channel_base // res, channel_max)`` (the paper: base 8192 x 2, max 512).

Generator at level ``L`` (resolution ``r_L = start * 2**L``)::

    z -> pixelnorm -> dense to start^d x c_0 -> lrelu, pixelnorm -> conv3 -> lrelu, pixelnorm  (block 0)
      -> [upsample2 -> conv3 -> lrelu, pixelnorm -> conv3 -> lrelu, pixelnorm]  (blocks 1 .. L)
      -> toRGB_L  (1 x 1 conv, linear)

During a fade (``alpha < 1``) the output is ``lerp(upsample2(toRGB_{L-1}(h_{L-1})), toRGB_L(h_L), alpha)``.

Discriminator at level ``L`` mirrors it: ``fromRGB_L -> block_L (conv3, conv3, avgpool2)``,
faded against ``fromRGB_{L-1}(avgpool2(image))``, then blocks ``L-1 .. 1`` and the final
block: minibatch stddev, conv3, dense, dense to one logit (WGAN critic score, no sigmoid).

The stage is also kept in two buffers, so a checkpoint (and core's EMA copy, which the
objective stages too) carries it to ``recon generate``.
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recon_progan.layers import (SQRT2, EqualizedConv, EqualizedLinear, MinibatchStd, PixelNorm, downsample2,
                                 upsample2)
from recon_progan.schedule import Stage, levels_for

__all__ = ["Discriminator", "Generator", "Staged"]


def _lrelu(x: Tensor) -> Tensor:
    return F.leaky_relu(x, 0.2)


class Staged(nn.Module):
    """A network trained progressively: ``set_stage(level, alpha)``.

    The stage is kept twice: as Python numbers (what ``forward`` reads, no device sync) and as
    the buffers ``stage_level`` / ``stage_alpha`` (what the state dict, the checkpoint and core's
    EMA copy carry); loading a state dict sets the numbers from the buffers.
    """

    stage_level: Tensor
    stage_alpha: Tensor

    def __init__(self, resolution: int, start_resolution: int, spatial_dims: int, channel_base: int,
                 channel_max: int) -> None:
        super().__init__()
        self.levels = levels_for(start_resolution, resolution)
        self.resolution, self.start_resolution, self.spatial_dims = resolution, start_resolution, spatial_dims
        self.widths = [max(1, min(channel_base // (start_resolution * 2**k), channel_max)) for k in range(self.levels)]
        self.register_buffer("stage_level", torch.tensor(self.levels - 1, dtype=torch.int64))
        self.register_buffer("stage_alpha", torch.tensor(1.0, dtype=torch.float32))
        self.level, self.alpha = self.levels - 1, 1.0
        self.register_load_state_dict_post_hook(_stage_from_buffers)

    @property
    def stage(self) -> Stage:
        return Stage(self.level, self.alpha)

    @property
    def current_resolution(self) -> int:
        return self.start_resolution * 2**self.level

    def set_stage(self, level: int, alpha: float = 1.0) -> None:
        """Train/run resolution ``start * 2**level`` with its new block faded in by ``alpha``."""
        if not 0 <= level < self.levels:
            raise ValueError(f"level must be in [0, {self.levels - 1}], got {level}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        if (int(level), float(alpha)) != (self.level, self.alpha):
            self.stage_level.fill_(int(level))
            self.stage_alpha.fill_(float(alpha))
        self.level, self.alpha = int(level), float(alpha)


def _stage_from_buffers(module: nn.Module, incompatible: Any) -> None:
    """``load_state_dict`` post-hook: the Python stage from the loaded buffers."""
    assert isinstance(module, Staged)
    module.level, module.alpha = int(module.stage_level), float(module.stage_alpha)


class Generator(Staged):
    """ProGAN's generator: ``(N, z_dim)`` latents -> ``(N, C, r, r[, r])`` images in about [-1, 1]
    at the current stage's resolution ``r``."""

    def __init__(self, z_dim: int = 128, resolution: int = 32, num_channels: int = 1, start_resolution: int = 4,
                 channel_base: int = 2048, channel_max: int = 128, spatial_dims: int = 2) -> None:
        super().__init__(resolution, start_resolution, spatial_dims, channel_base, channel_max)
        self.z_dim, self.num_channels = z_dim, num_channels
        w, d = self.widths, spatial_dims
        self.norm = PixelNorm()
        self.dense = EqualizedLinear(z_dim, w[0] * start_resolution**d, gain=SQRT2 / 4)  # NVlabs' gain
        self.blocks = nn.ModuleList([EqualizedConv(w[0], w[0], 3, d)])
        self.blocks.extend(nn.ModuleList([EqualizedConv(w[k - 1], w[k], 3, d), EqualizedConv(w[k], w[k], 3, d)])
                           for k in range(1, self.levels))
        self.to_rgb = nn.ModuleList(EqualizedConv(w[k], num_channels, 1, d, gain=1.0) for k in range(self.levels))

    def _block(self, k: int, x: Tensor) -> Tensor:
        layers = self.blocks[k]
        if k == 0:
            return self.norm(_lrelu(layers(x)))
        x = upsample2(x)
        for conv in cast(nn.ModuleList, layers):
            x = self.norm(_lrelu(conv(x)))
        return x

    def forward(self, z: Tensor) -> Tensor:
        """``(N, z_dim) -> (N, C, r, r[, r])`` with ``r = current_resolution``."""
        s = self.start_resolution
        x = self.dense(self.norm(z)).reshape(z.shape[0], self.widths[0], *([s] * self.spatial_dims))
        x = self._block(0, self.norm(_lrelu(x)))
        previous = x
        for k in range(1, self.level + 1):
            previous, x = x, self._block(k, x)
        out = self.to_rgb[self.level](x)
        if self.level > 0 and self.alpha < 1.0:
            low = upsample2(self.to_rgb[self.level - 1](previous))
            out = torch.lerp(low, out, self.alpha)
        return out


class Discriminator(Staged):
    """ProGAN's critic: ``(N, C, r, r[, r])`` images at the current resolution -> ``(N, 1)`` scores."""

    def __init__(self, resolution: int = 32, num_channels: int = 1, start_resolution: int = 4,
                 channel_base: int = 2048, channel_max: int = 128, spatial_dims: int = 2,
                 mbstd_group_size: int = 4) -> None:
        super().__init__(resolution, start_resolution, spatial_dims, channel_base, channel_max)
        w, d = self.widths, spatial_dims
        self.from_rgb = nn.ModuleList(EqualizedConv(num_channels, w[k], 1, d) for k in range(self.levels))
        self.blocks = nn.ModuleList([nn.Identity()])  # level 0 is the final block below
        self.blocks.extend(nn.ModuleList([EqualizedConv(w[k], w[k], 3, d), EqualizedConv(w[k], w[k - 1], 3, d)])
                           for k in range(1, self.levels))
        self.mbstd = MinibatchStd(mbstd_group_size)
        self.final_conv = EqualizedConv(w[0] + 1, w[0], 3, d)
        self.final_dense = EqualizedLinear(w[0] * start_resolution**d, w[0])
        self.out = EqualizedLinear(w[0], 1, gain=1.0)

    def _block(self, k: int, x: Tensor) -> Tensor:
        for conv in cast(nn.ModuleList, self.blocks[k]):
            x = _lrelu(conv(x))
        return downsample2(x)

    def forward(self, images: Tensor) -> Tensor:
        """``(N, C, r, r[, r]) -> (N, 1)``; ``r`` must be the current stage's resolution."""
        r = self.current_resolution
        if tuple(images.shape[2:]) != (r,) * self.spatial_dims:
            raise ValueError(f"discriminator at level {self.level} expects {r}^{self.spatial_dims} images, "
                             f"got {tuple(images.shape)}")
        x = _lrelu(self.from_rgb[self.level](images))
        if self.level > 0:
            x = self._block(self.level, x)
            if self.alpha < 1.0:
                low = _lrelu(self.from_rgb[self.level - 1](downsample2(images)))
                x = torch.lerp(low, x, self.alpha)
        for k in range(self.level - 1, 0, -1):
            x = self._block(k, x)
        x = _lrelu(self.final_conv(self.mbstd(x)))
        return self.out(_lrelu(self.final_dense(x.flatten(1))))


def parameter_count(module: nn.Module) -> int:
    """Number of parameters (for the docs' table)."""
    return sum(math.prod(p.shape) for p in module.parameters())
