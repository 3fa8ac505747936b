"""Small helpers shared by the unconditional generator tasks (stylegan2, progan).

- :func:`unwrap_module`: the bare network under DDP / ``torch.compile`` wrappers;
- :func:`indexed_latents`: latent ``i`` of a seed is a pure function of ``(seed, i)``, so a
  sample does not depend on the batch it was drawn in (FID shards, ``recon generate``);
- :func:`signed_to_unit`: generator outputs in [-1, 1] to images in [0, 1];
- :func:`square_image` / :func:`resize_square`: the dataset's images made square and
  resized to the generator's resolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["unwrap_module", "indexed_latents", "signed_to_unit", "square_image", "resize_square"]


def unwrap_module(module: nn.Module) -> nn.Module:
    """The bare module under DDP (``.module``) / ``torch.compile`` (``._orig_mod``) wrappers."""
    while True:
        inner = getattr(module, "module", None) or getattr(module, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return module
        module = inner


def indexed_latents(z_dim: int, seed: int, start: int, count: int) -> Tensor:
    """``(count, z_dim)`` CPU latents for indices ``start .. start + count - 1`` of ``seed``."""
    rows = [torch.randn(z_dim, generator=torch.Generator().manual_seed((seed * 1_000_003 + i) % (2**63 - 1)))
            for i in range(start, start + count)]
    return torch.stack(rows)


def signed_to_unit(images: Tensor) -> Tensor:
    """Generator output in [-1, 1] -> [0, 1], clamped (float32)."""
    return ((images.float() + 1.0) / 2.0).clamp(0.0, 1.0)


def square_image(image: Tensor, mode: str) -> Tensor:
    """``(C, H, W)`` -> ``(C, S, S)``: ``crop`` centre-crops to the short side, anything else
    zero-pads (centred) to the long one."""
    h, w = image.shape[-2:]
    if h == w:
        return image
    if mode == "crop":
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        return image[..., top:top + s, left:left + s]
    s = max(h, w)
    top, left = (s - h) // 2, (s - w) // 2
    return F.pad(image, (left, s - w - left, top, s - h - top))


def resize_square(image: Tensor, resolution: int) -> Tensor:
    """A square ``(C, S, S)`` image resized to ``(C, R, R)`` (bicubic, antialiased when
    shrinking), clamped to [0, 1]."""
    if image.shape[-1] == resolution:
        return image.clamp(0, 1)
    out = F.interpolate(image[None].float(), size=(resolution, resolution), mode="bicubic",
                        align_corners=False, antialias=image.shape[-1] > resolution)
    return out[0].clamp(0, 1)
