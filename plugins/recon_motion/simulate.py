"""The motion simulation of ``mri_motion``: core's rigid-motion operator applied to one slice.

The physics — rigid in-plane poses that change between k-space rows, the centred FFT, the
Fourier shift theorem, kornia rotations — is :class:`recon.physics.RigidMotion` (model and
references in :mod:`recon.physics.motion`). Its fields are the ``motion`` config section
(how much and when the subject moves), kept here under their task name ``MotionParams``;
:func:`simulate_motion` draws one trajectory and corrupts one slice with it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from recon.api import RigidMotion, Trajectory

__all__ = ["MotionParams", "simulate_motion"]

#: the ``motion`` config section: the operator's configuration (max rotation/translation,
#: number of events, fraction of corrupted rows, kept centre, phase-encode ordering)
MotionParams = RigidMotion


def simulate_motion(image: Tensor, params: RigidMotion, rng: torch.Generator) -> tuple[Tensor, Trajectory]:
    """Corrupt a ``(C, H, W)`` magnitude image with random rigid motion drawn from ``rng``.

    Returns:
        ``(corrupted, trajectory)``: the magnitude reconstruction of the corrupted k-space,
        ``(C, H, W)`` float32, and the motion that made it.
    """
    trajectory = params.sample(image.shape, rng)
    return params(image, trajectory), trajectory
