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

:class:`RigidMotion` is the operator: its fields say how much and when the subject moves,
:meth:`RigidMotion.sample` draws a :class:`Trajectory` from a ``torch.Generator`` (one seed, one
corruption), ``forward`` is the magnitude image of the corrupted k-space and the pseudo-inverse
is the corrupted image itself (the classical "do nothing" baseline). Not linear (rotation
resamples, the output is a magnitude).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

import torch
from torch import Tensor

from recon.physics.fft import IMAGE_DIMS, fftc, ifftc
from recon.physics.operator import Operator, require_params

__all__ = ["RigidMotion", "Trajectory", "acquisition_order", "center_rows", "phase_ramp", "rotate"]

Ordering = Literal["sequential", "centre_out"]


@dataclass
class Trajectory:
    """The poses of one simulated acquisition (or of a batch: a leading ``N`` on every field).

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

    @property
    def batched(self) -> bool:
        """Whether the fields carry a leading batch dim (``line_pose`` ``(N, H)``)."""
        return self.line_pose.dim() == 2

    def __getitem__(self, index: int) -> "Trajectory":
        """Sample ``index`` of a batched trajectory."""
        return Trajectory(self.angles[index], self.shifts[index], self.line_pose[index])


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


def phase_ramp(h: int, w: int, dy: float, dx: float) -> Tensor:
    """``(H, W)`` complex64 factor that shifts an image by ``(dy, dx)`` pixels in centred k-space.

    Fourier shift theorem: ``F(x(r - d)) = F(x) * exp(-2 pi i (ky dy / H + kx dx / W))``
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

    angle = torch.tensor([float(degrees)], dtype=image.dtype, device=image.device)
    return kornia_rotate(image[None], angle, mode="bilinear", padding_mode="zeros")[0]


@dataclass(frozen=True)
class RigidMotion(Operator):
    """Rigid in-plane motion between k-space rows (model: module docstring).

    ``x``: real magnitude ``(C, H, W)``, or ``(N, C, H, W)`` with a batched :class:`Trajectory`.
    """

    max_rotation: float = 3.0  # degrees; each pose's angle is uniform in [-max, max]
    max_translation: float = 3.0  # pixels; each pose's dy, dx are uniform in [-max, max]
    num_events: int = 2  # moves to a new pose during the acquisition (0 = no motion)
    fraction_corrupted: float = 0.3  # fraction of all k-space rows acquired after the first move
    center_fraction: float = 0.08  # central rows always acquired in the reference pose
    ordering: Ordering = "sequential"  # phase-encode order: top to bottom, or centre out
    baseline_name = "corrupted"
    params_type = Trajectory

    def sample_trajectory(self, h: int, generator: torch.Generator | None = None) -> Trajectory:
        """Random motion events for an acquisition of ``h`` phase-encode rows (unbatched).

        The last ``round(fraction_corrupted * h)`` rows in acquisition order (among the rows
        outside the kept centre) are acquired after the first event; the other events split
        them at random distinct times. Poses are absolute (relative to the reference), drawn
        independently.
        """
        rng = generator
        n_events = self.num_events
        uniform = torch.rand(n_events, 3, generator=rng) * 2 - 1  # drawn first: fixed RNG use
        angles = torch.cat([torch.zeros(1), uniform[:, 0] * self.max_rotation])
        shifts = torch.cat([torch.zeros(1, 2), uniform[:, 1:] * self.max_translation])
        line_pose = torch.zeros(h, dtype=torch.long)
        order = acquisition_order(h, self.ordering)
        movable = order[~center_rows(h, self.center_fraction)[order]]
        n = min(int(round(self.fraction_corrupted * h)), movable.numel()) if n_events > 0 else 0
        if n > 0:
            corrupted = movable[movable.numel() - n:]
            cuts = torch.sort(torch.randperm(max(n - 1, 1), generator=rng)[:n_events - 1] + 1).values
            segment = torch.searchsorted(cuts, torch.arange(n), right=True)  # 0 .. n_events-1
            line_pose[corrupted] = segment + 1
        return Trajectory(angles, shifts, line_pose)

    def sample(self, shape: Sequence[int], generator: torch.Generator | None = None) -> Trajectory:
        """A trajectory for ``x`` of ``(C, H, W)``; a batched one (samples drawn in turn) for ``(N, C, H, W)``."""
        if len(shape) == 4:
            parts = [self.sample_trajectory(int(shape[-2]), generator) for _ in range(int(shape[0]))]
            return Trajectory(torch.stack([p.angles for p in parts]), torch.stack([p.shifts for p in parts]),
                              torch.stack([p.line_pose for p in parts]))
        return self.sample_trajectory(int(shape[-2]), generator)

    @staticmethod
    def corrupt_kspace(image: Tensor, trajectory: Trajectory) -> Tensor:
        """The motion-corrupted centred k-space of a real image.

        Args:
            image: ``(C, H, W)`` real magnitude image (the reference pose).
            trajectory: poses and the pose of each row (``line_pose`` of length ``H``), unbatched.

        Returns:
            ``(C, H, W)`` complex64 centred k-space; row ``r`` comes from pose ``line_pose[r]``.
        """
        h, w = image.shape[-2:]
        if trajectory.line_pose.numel() != h:
            raise ValueError(f"trajectory has {trajectory.line_pose.numel()} rows, image has {h}")
        kspace = torch.empty(image.shape, dtype=torch.complex64, device=image.device)
        for pose in torch.unique(trajectory.line_pose).tolist():
            moved = rotate(image.float(), float(trajectory.angles[pose]))
            k_pose = fftc(moved.to(torch.complex64), IMAGE_DIMS)
            dy, dx = (float(v) for v in trajectory.shifts[pose])
            if dy or dx:
                k_pose = k_pose * phase_ramp(h, w, dy, dx).to(k_pose.device)
            rows = (trajectory.line_pose == pose).to(image.device)
            kspace[..., rows, :] = k_pose[..., rows, :]
        return kspace

    def forward(self, x: Tensor, params: Trajectory | None = None) -> Tensor:
        """The corrupted magnitude image ``|F^-1 k|``: real ``(N?, C, H, W)`` -> float32, same shape.

        A batch ``(N, C, H, W)`` takes a batched trajectory (one per sample) or one shared by all
        (``params`` required).
        """
        params = require_params(params, "RigidMotion.forward")
        if x.dim() == 4:  # a batch: its own trajectory per sample, or one shared by all
            return torch.stack([self.forward(x[i], params[i] if params.batched else params) for i in range(x.shape[0])])
        return ifftc(self.corrupt_kspace(x, params), IMAGE_DIMS).abs().to(torch.float32)

    def pseudo_inverse(self, y: Tensor, params: Trajectory | None = None) -> Tensor:
        """The corrupted image itself (the classical baseline): ``y`` unchanged."""
        return y
