"""DiffAugment (Zhao, Liu, Lin, Zhu & Han, *Differentiable Augmentation for Data-Efficient GAN
Training*, NeurIPS 2020) for the discriminator's inputs of any task.

A discriminator trained on a few images (a single brain, a handful of photographs)
memorises them; its gradients then push the generator towards artifacts instead of realism.
DiffAugment applies the same family of differentiable transforms to every image D sees,
real and generated alike, in both the discriminator and the generator steps, so D cannot
memorise and G still receives gradients through the transform. Each call draws new
parameters per sample from the global torch RNG (saved in checkpoints: resume stays exact).

Policies (comma-separated, applied in this order):

- ``translation``: shift by an integer in ``[-r W, r W]`` x ``[-r H, r H]`` pixels (``r`` =
  1/8), zeros shifted in;
- ``cutout``: zero a square of half the image side (rounded) at a uniform centre;
- ``brightness``: add a uniform offset in [-0.5, 0.5] x the value range / 2 (per sample);
- ``contrast``: scale deviations from each image's mean by a factor in [0.5, 1.5].

The transforms act on every channel together, so a conditional D's (input, output) pair
stays aligned. Shapes: ``(N, C, H, W) -> (N, C, H, W)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

POLICIES = ("translation", "cutout", "brightness", "contrast")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"translation,cutout"`` -> ``("translation", "cutout")``; unknown names raise ValueError."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {', '.join(unknown)}; valid: {', '.join(POLICIES)}")
    return names


def translate(x: Tensor, ratio: float = TRANSLATION_RATIO) -> Tensor:
    """Integer shifts per sample with zeros shifted in."""
    n, _, h, w = x.shape
    max_y, max_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    shift_y = torch.randint(-max_y, max_y + 1, (n, 1, 1), device=x.device)
    shift_x = torch.randint(-max_x, max_x + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) - shift_y  # source row of each output row
    cols = torch.arange(w, device=x.device).view(1, 1, w) - shift_x
    inside = ((rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)).unsqueeze(1)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    moved = x.permute(0, 2, 3, 1)[batch, rows.clamp(0, h - 1), cols.clamp(0, w - 1)].permute(0, 3, 1, 2)
    return moved * inside.to(x.dtype)


def cutout(x: Tensor, ratio: float = CUTOUT_RATIO) -> Tensor:
    """Zero one ``ratio``-sized square per sample, centred uniformly in the image."""
    n, _, h, w = x.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    centre_y = torch.randint(0, h + (1 - size_y % 2), (n, 1, 1), device=x.device)
    centre_x = torch.randint(0, w + (1 - size_x % 2), (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    top, left = centre_y - size_y // 2, centre_x - size_x // 2
    hole = (rows >= top) & (rows < top + size_y) & (cols >= left) & (cols < left + size_x)
    return x * (~hole).unsqueeze(1).to(x.dtype)


def brightness(x: Tensor, value_range: tuple[float, float] = (0.0, 1.0)) -> Tensor:
    span = value_range[1] - value_range[0]
    return x + (torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5) * span / 2


def contrast(x: Tensor) -> Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5) + mean


class DiffAugment(nn.Module):
    """Apply the ``policy`` transforms to a batch of D inputs (see the module docstring).

    Args:
        policy: comma-separated names from :data:`POLICIES`.
        value_range: the images' range (for ``brightness``).
    """

    def __init__(self, policy: str = "translation,cutout", value_range: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__()
        self.policy = parse_policy(policy)
        self.value_range = value_range

    def extra_repr(self) -> str:
        return f"policy={','.join(self.policy)}"

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:  # 3D volumes: not defined here
            raise ValueError(f"DiffAugment expects (N, C, H, W) images, got shape {tuple(x.shape)}")
        for name in self.policy:
            if name == "translation":
                x = translate(x)
            elif name == "cutout":
                x = cutout(x)
            elif name == "brightness":
                x = brightness(x, self.value_range)
            else:
                x = contrast(x)
        return x
