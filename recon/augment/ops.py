"""Batched transform matrices and their differentiable application, for the ADA pipeline.

Geometry uses homogeneous 3x3 matrices in *centred pixel coordinates* (origin at the image
centre, x to the right, y down, one unit per pixel) that map input positions to output
positions. Colour uses homogeneous ``(C+1) x (C+1)`` matrices acting on channel vectors.
Everything is built from ``(N,)`` parameter tensors, so each sample has its own transform
and nothing leaves the device.
"""

from __future__ import annotations

import math

import torch
from kornia.geometry.transform import warp_affine
from torch import Tensor

__all__ = [
    "translate2d",
    "scale2d",
    "rotate2d",
    "rotate90",
    "warp_centered",
    "color_translate",
    "color_scale",
    "luma_flip",
    "hue_rotate",
    "saturate",
    "apply_color",
]


def _mat3(a: Tensor, b: Tensor, c: Tensor, d: Tensor, e: Tensor, f: Tensor) -> Tensor:
    """Rows ``[a b c], [d e f], [0 0 1]`` from ``(N,)`` tensors -> ``(N, 3, 3)``."""
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    return torch.stack([a, b, c, d, e, f, zero, zero, one], dim=-1).reshape(-1, 3, 3)


def translate2d(tx: Tensor, ty: Tensor) -> Tensor:
    z, o = torch.zeros_like(tx), torch.ones_like(tx)
    return _mat3(o, z, tx, z, o, ty)


def scale2d(sx: Tensor, sy: Tensor) -> Tensor:
    z = torch.zeros_like(sx)
    return _mat3(sx, z, z, z, sy, z)


def rotate2d(theta: Tensor) -> Tensor:
    c, s, z = torch.cos(theta), torch.sin(theta), torch.zeros_like(theta)
    return _mat3(c, -s, z, s, c, z)


def rotate90(k: Tensor) -> Tensor:
    """Rotation by ``k * 90`` degrees (``k`` integer-valued) with exact 0/±1 entries."""
    k = k.long() % 4
    c = torch.tensor([1.0, 0.0, -1.0, 0.0], device=k.device)[k]
    s = torch.tensor([0.0, 1.0, 0.0, -1.0], device=k.device)[k]
    z = torch.zeros_like(c)
    return _mat3(c, -s, z, s, c, z)


def warp_centered(images: Tensor, M: Tensor) -> Tensor:
    """Resample ``images (N, C, H, W)`` by per-sample centred-coordinate matrices ``M (N, 3, 3)``.

    Uses :func:`kornia.geometry.transform.warp_affine` (bilinear, reflection padding,
    ``align_corners=True`` so pixel centres sit on integer coordinates: flips, 90-degree
    rotations of square images and integer shifts land exactly on pixel centres).
    """
    n, _, h, w = images.shape
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    ones = torch.ones(n, device=images.device, dtype=M.dtype)
    to_centre = translate2d(ones * -cx, ones * -cy)
    from_centre = translate2d(ones * cx, ones * cy)
    M_pix = from_centre @ M @ to_centre
    return warp_affine(images, M_pix[:, :2, :], dsize=(h, w), mode="bilinear", padding_mode="reflection",
                       align_corners=True)


# --- colour -------------------------------------------------------------------------------


def _eye(n: int, c: int, device) -> Tensor:
    return torch.eye(c + 1, device=device).expand(n, c + 1, c + 1).clone()


def color_translate(b: Tensor, channels: int) -> Tensor:
    """Add ``b`` to every channel (brightness)."""
    m = _eye(b.shape[0], channels, b.device)
    m[:, :channels, channels] = b.unsqueeze(1)
    return m


def color_scale(s: Tensor, channels: int) -> Tensor:
    """Multiply every channel by ``s`` around 0 (contrast, for zero-centred data)."""
    m = _eye(s.shape[0], channels, s.device)
    idx = torch.arange(channels, device=s.device)
    m[:, idx, idx] = s.unsqueeze(1)
    return m


def _luma_axis(device) -> Tensor:
    return torch.full((3,), 1.0 / math.sqrt(3.0), device=device)


def _embed3(m3: Tensor) -> Tensor:
    m = _eye(m3.shape[0], 3, m3.device)
    m[:, :3, :3] = m3
    return m


def luma_flip(i: Tensor) -> Tensor:
    """RGB Householder reflection of the luma axis ``(1,1,1)/sqrt(3)`` where ``i == 1``."""
    v = _luma_axis(i.device)
    vv = torch.outer(v, v)
    return _embed3(torch.eye(3, device=i.device) - 2 * vv * i.reshape(-1, 1, 1))


def hue_rotate(theta: Tensor) -> Tensor:
    """RGB rotation by ``theta`` about the luma axis (Rodrigues' formula)."""
    v = _luma_axis(theta.device)
    vv = torch.outer(v, v)
    a = 1.0 / math.sqrt(3.0)  # cross-product matrix [v]_x of v = (a, a, a)
    vx = torch.tensor([[0.0, -a, a], [a, 0.0, -a], [-a, a, 0.0]], device=theta.device)
    c, s = torch.cos(theta).reshape(-1, 1, 1), torch.sin(theta).reshape(-1, 1, 1)
    return _embed3(c * torch.eye(3, device=theta.device) + s * vx + (1 - c) * vv)


def saturate(s: Tensor) -> Tensor:
    """RGB saturation: keep the luma component, scale the chroma plane by ``s``."""
    v = _luma_axis(s.device)
    vv = torch.outer(v, v)
    return _embed3(vv + (torch.eye(3, device=s.device) - vv) * s.reshape(-1, 1, 1))


def apply_color(images: Tensor, m: Tensor) -> Tensor:
    """Apply homogeneous colour matrices ``m (N, C+1, C+1)`` to ``images (N, C, H, W)``."""
    n, c, h, w = images.shape
    flat = images.reshape(n, c, h * w)
    out = torch.baddbmm(m[:, :c, c:], m[:, :c, :c], flat)
    return out.reshape(n, c, h, w)
