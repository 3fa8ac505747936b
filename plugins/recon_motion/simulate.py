"""Rigid in-plane motion during a 2D Cartesian acquisition, simulated in k-space.

The model (Duffy et al. 2018; Shaw et al. 2019, TorchIO's ``RandomMotion``; Johnson &
Drangova 2019): a slice is acquired one phase-encode line (one row of k-space, index along
``H``) at a time. The subject starts in the reference pose and, at ``num_events`` random
times, jumps to a new random rigid pose (rotation about the image centre + translation) that
it keeps until the next event. Each k-space row is taken from the Fourier transform of the
image *in the pose held when that row was acquired*::

    k[row, :] = FFT( T_pose(row)(image) )[row, :]

so the reconstruction ``|IFFT(k)|`` shows the ghosting and blurring of real motion, along the
phase-encode direction. ``fraction_corrupted`` of all rows are acquired after the first
event; rows within ``center_fraction`` of the k-space centre are always acquired in the
reference pose (as with a centre-out ordering), which keeps the image registered to the
reference. Translations use the exact Fourier shift theorem (a phase ramp on k-space);
rotations resample the image (kornia, bilinear) once per pose.

Everything random comes from a ``torch.Generator``, so one seed gives one corruption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

Ordering = Literal["sequential", "centre_out"]


def fft2c(image: Tensor) -> Tensor:
    """Centred orthonormal 2D FFT over the last two dims (fastMRI's ``fft2c``), complex out."""
    x = torch.fft.ifftshift(image, dim=(-2, -1))
    return torch.fft.fftshift(torch.fft.fft2(x, dim=(-2, -1), norm="ortho"), dim=(-2, -1))


def ifft2c(kspace: Tensor) -> Tensor:
    """Inverse of :func:`fft2c`: centred k-space ``(..., H, W)`` -> complex image."""
    x = torch.fft.ifftshift(kspace, dim=(-2, -1))
    return torch.fft.fftshift(torch.fft.ifft2(x, dim=(-2, -1), norm="ortho"), dim=(-2, -1))


@dataclass(frozen=True)
class MotionParams:
    """How much and when the subject moves (the ``motion`` config section)."""

    max_rotation: float = 3.0  # degrees; each pose's angle is uniform in [-max, max]
    max_translation: float = 3.0  # pixels; each pose's dy, dx are uniform in [-max, max]
    num_events: int = 2  # moves to a new pose during the acquisition (0 = no motion)
    fraction_corrupted: float = 0.3  # fraction of all k-space rows acquired after the first move
    center_fraction: float = 0.08  # central rows always acquired in the reference pose
    ordering: Ordering = "sequential"  # phase-encode order: top to bottom, or centre out


@dataclass
class Trajectory:
    """The poses of one simulated acquisition.

    Attributes:
        angles: ``(P,)`` degrees (anticlockwise as displayed); pose 0 is the reference (0).
        shifts: ``(P, 2)`` pixels ``(dy, dx)``, positive = content moves down / right.
        line_pose: ``(H,)`` int64, the pose index in which each k-space row was acquired.
    """

    angles: Tensor
    shifts: Tensor
    line_pose: Tensor

    @property
    def corrupted_fraction(self) -> float:
        """Fraction of k-space rows not acquired in the reference pose."""
        return float((self.line_pose != 0).float().mean())


def acquisition_order(h: int, ordering: Ordering) -> Tensor:
    """Row indices ``(H,)`` in the order they are acquired.

    ``sequential`` goes from the top row (most negative ky) to the bottom; ``centre_out``
    starts at the centre row ``H // 2`` and alternates outwards (c, c-1, c+1, c-2, ...).
    """
    rows = torch.arange(h)
    if ordering == "sequential":
        return rows
    if ordering == "centre_out":
        distance = (rows - h // 2).abs() * 2 + (rows > h // 2).long()
        return rows[torch.argsort(distance)]
    raise ValueError(f"unknown ordering '{ordering}' (sequential or centre_out)")


def center_rows(h: int, fraction: float) -> Tensor:
    """Boolean ``(H,)``: the ``round(fraction * H)`` rows around the k-space centre ``H // 2``."""
    n = int(round(fraction * h))
    keep = torch.zeros(h, dtype=torch.bool)
    start = h // 2 - n // 2
    keep[max(0, start):start + n] = True
    return keep


def sample_trajectory(h: int, params: MotionParams, rng: torch.Generator) -> Trajectory:
    """Random motion events for an acquisition of ``h`` phase-encode rows.

    The last ``round(fraction_corrupted * h)`` rows in acquisition order (among the rows
    outside the kept centre) are acquired after the first event; the other events split
    them at random distinct times. Poses are absolute (relative to the reference), drawn
    independently.
    """
    n_events = params.num_events
    uniform = torch.rand(n_events, 3, generator=rng) * 2 - 1  # drawn first: fixed RNG use
    angles = torch.cat([torch.zeros(1), uniform[:, 0] * params.max_rotation])
    shifts = torch.cat([torch.zeros(1, 2), uniform[:, 1:] * params.max_translation])
    line_pose = torch.zeros(h, dtype=torch.long)
    order = acquisition_order(h, params.ordering)
    movable = order[~center_rows(h, params.center_fraction)[order]]
    n = min(int(round(params.fraction_corrupted * h)), movable.numel()) if n_events > 0 else 0
    if n > 0:
        corrupted = movable[movable.numel() - n:]
        cuts = torch.sort(torch.randperm(max(n - 1, 1), generator=rng)[:n_events - 1] + 1).values
        segment = torch.searchsorted(cuts, torch.arange(n), right=True)  # 0 .. n_events-1
        line_pose[corrupted] = segment + 1
    return Trajectory(angles, shifts, line_pose)


def phase_ramp(h: int, w: int, dy: float, dx: float) -> Tensor:
    """``(H, W)`` complex64 factor that shifts an image by ``(dy, dx)`` pixels in centred k-space.

    Fourier shift theorem: ``fft2c(x(r - d)) = fft2c(x) * exp(-2 pi i (ky dy / H + kx dx / W))``
    with centred frequencies ``ky = row - H // 2``; an integer shift is an exact circular roll.
    """
    ky = (torch.arange(h, dtype=torch.float64) - h // 2) / h
    kx = (torch.arange(w, dtype=torch.float64) - w // 2) / w
    phase = -2 * math.pi * (ky[:, None] * dy + kx[None, :] * dx)
    return torch.polar(torch.ones_like(phase), phase).to(torch.complex64)


def rotate(image: Tensor, degrees: float) -> Tensor:
    """Rotate ``(C, H, W)`` about the centre ``((W-1)/2, (H-1)/2)``; bilinear, zeros outside."""
    if degrees == 0:
        return image
    from kornia.geometry.transform import rotate as kornia_rotate

    angle = torch.tensor([float(degrees)], dtype=image.dtype)
    return kornia_rotate(image[None], angle, mode="bilinear", padding_mode="zeros")[0]


def corrupt_kspace(image: Tensor, trajectory: Trajectory) -> Tensor:
    """The motion-corrupted k-space of a real image.

    Args:
        image: ``(C, H, W)`` real magnitude image (the reference pose).
        trajectory: poses and the pose of each row (``line_pose`` of length ``H``).

    Returns:
        ``(C, H, W)`` complex64 centred k-space; row ``r`` comes from pose ``line_pose[r]``.
    """
    h, w = image.shape[-2:]
    if trajectory.line_pose.numel() != h:
        raise ValueError(f"trajectory has {trajectory.line_pose.numel()} rows, image has {h}")
    kspace = torch.empty(image.shape, dtype=torch.complex64)
    for pose in torch.unique(trajectory.line_pose).tolist():
        moved = rotate(image.float(), float(trajectory.angles[pose]))
        k_pose = fft2c(moved.to(torch.complex64))
        dy, dx = (float(v) for v in trajectory.shifts[pose])
        if dy or dx:
            k_pose = k_pose * phase_ramp(h, w, dy, dx)
        rows = trajectory.line_pose == pose
        kspace[..., rows, :] = k_pose[..., rows, :]
    return kspace


def simulate_motion(image: Tensor, params: MotionParams, rng: torch.Generator) -> tuple[Tensor, Trajectory]:
    """Corrupt a ``(C, H, W)`` magnitude image with random rigid motion.

    Returns:
        ``(corrupted, trajectory)``: the magnitude reconstruction ``|ifft2c(k)|`` of the
        corrupted k-space, ``(C, H, W)`` float32, and the motion that made it.
    """
    trajectory = sample_trajectory(image.shape[-2], params, rng)
    corrupted = ifft2c(corrupt_kspace(image, trajectory)).abs()
    return corrupted.to(torch.float32), trajectory
