"""Longitudinal pseudo-subjects simulated from the MNI152 template (a simulation, not a disease model).

Grid: axial slices of nilearn's MNI ICBM152 2009a T1 template (the ``mni152`` source) through
the lateral ventricles (MNI z = +10 ... +24 mm), averaged to 2 mm pixels and cropped to
``SHAPE`` = 80 x 96 pixels around the brain. Everything below is a pure function of
``(seed, subject)`` or ``(seed, case)``, in torch on the CPU.

A pseudo-subject (:func:`subjects`):

1. **Group** healthy / MCI / AD with probabilities ``GROUP_PROBS``, and a disease **stage**
   in [0, 1] drawn from the group's range ``STAGE_RANGE`` (ranges overlap between groups).
2. **Anatomy**: a random smooth deformation of one template slice (a 4 x 5 grid of random
   displacements of up to ``ANATOMY_PX`` pixels, bicubically upsampled, plus a random
   scaling and rotation), then a stage-dependent *pre-existing* atrophy: ventricles enlarged
   by ``PRE_VENTRICLE`` x stage percent, so the baseline scan shows the stage.
3. **Contrast**: gamma, gain and a smooth multiplicative bias field (subject-specific).
4. **Annual rates** that depend on the stage (so on what the baseline shows), not only on the
   group: ventricular expansion ``1.5 + 7.0 x stage`` %/yr and whole-brain (parenchyma) loss
   ``0.3 + 1.4 x stage`` %/yr, each with a small subject-level jitter.
5. **Velocity field** ``v`` (pixels per year): a ventricular term along the gradient of the
   smoothed ventricle mask (tissue recedes from the ventricles) and a cortical term along the
   gradient of the smoothed head mask (the cortex recedes from the surface), each scaled so
   that one year gives the subject's rates (calibrated on the subject's own masks).

A visit ``t`` years after baseline is the subject's image warped by the diffeomorphism
``exp(t v)`` (:func:`recon_progression.warp.exp_field`), then a per-visit intensity drift
(gain ~ N(1, ``DRIFT``), a smooth bias change) and Gaussian noise of std ``NOISE``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from recon_progression.segment import segment
from recon_progression.warp import exp_field, gaussian_smooth, spatial_gradient, warp

GROUPS = ("healthy", "MCI", "AD")
GROUP_PROBS = (0.4, 0.3, 0.3)
STAGE_RANGE = ((0.0, 0.35), (0.25, 0.65), (0.55, 1.0))
VENTRICLE_RATE = (1.5, 7.0)  # %/yr = a + b * stage (healthy ~1.5-4, AD ~5.4-8.5)
BRAIN_RATE = (0.3, 1.4)  # %/yr = a + b * stage (healthy ~0.3-0.8, AD ~1.1-1.7)
RATE_JITTER = (0.3, 0.08)  # std of the subject-level jitter of the two rates, %/yr
PRE_VENTRICLE = 60.0  # % ventricle enlargement already present at stage 1
ANATOMY_PX = 2.5
NOISE = 0.015
DRIFT = 0.02
SLAB = range(82, 97, 2)  # template z indices (MNI z = +10 ... +24 mm) at 1 mm
CROP = (slice(22, 182), slice(24, 216))  # 1 mm crop of x, y around the brain
SHAPE = (80, 96)
EVAL_YEARS = (1.0, 2.0, 3.0, 5.0)


@dataclass(frozen=True)
class Cohort:
    """All pseudo-subjects of one seed; tensors are indexed by subject."""

    images: Tensor  # (S, 1, H, W) noise-free baseline anatomy with the subject's contrast, [0, 1]
    velocity: Tensor  # (S, 2, H, W) pixels per year
    group: Tensor  # (S,) long, index into GROUPS
    stage: Tensor  # (S,)
    ventricle_rate: Tensor  # (S,) %/yr
    brain_rate: Tensor  # (S,) %/yr

    def __len__(self) -> int:
        return int(self.group.shape[0])


def template_slices(cache_dir: str = "") -> Tensor:
    """``(len(SLAB), 1, 80, 96)`` float32: the template's axial slab at 2 mm, max 1."""
    from recon.api import LoadOptions, load_source

    volume = load_source("mni152:t1", LoadOptions(cache_dir=cache_dir)).volumes[0]
    t1 = np.asarray(volume.array[0], dtype=np.float32)
    slab = np.stack([t1[CROP[0], CROP[1], z] for z in SLAB])  # (S, 160, 192)
    pooled = torch.from_numpy(slab)[:, None]
    pooled = F.avg_pool2d(pooled, 2)
    return (pooled / pooled.max()).contiguous()


def _unit(field: Tensor) -> Tensor:
    """Scale ``(N, 2, H, W)`` so the largest vector of each item has length 1 pixel."""
    norm = field.pow(2).sum(1, keepdim=True).sqrt().amax(dim=(2, 3), keepdim=True)
    return field / norm.clamp_min(1e-8)


def _masks(images: Tensor) -> tuple[Tensor, Tensor]:
    """``(ventricles, brain)`` float masks ``(N, 1, H, W)`` of noise-free images (the fixed rule)."""
    vent, brain = [], []
    for image in images[:, 0].numpy():
        seg = segment(image)
        vent.append(seg.ventricles)
        brain.append(seg.brain)
    as_tensor = lambda m: torch.from_numpy(np.stack(m).astype(np.float32))[:, None]  # noqa: E731
    return as_tensor(vent), as_tensor(brain)


def _area_change(mask: Tensor, field: Tensor) -> Tensor:
    """Percent change of the area of soft ``mask (N, 1, H, W)`` warped by sampling field ``field``."""
    before = mask.sum(dim=(1, 2, 3)).clamp_min(1.0)
    return 100.0 * (warp(mask, field).sum(dim=(1, 2, 3)) - before) / before


def unit_fields(images: Tensor) -> tuple[Tensor, Tensor]:
    """Unit ventricular and cortical velocity fields ``(N, 2, H, W)`` of noise-free anatomy images.

    The ventricular field points into the ventricles (sampling from there enlarges them); the
    cortical one points out of the head (sampling from outside thins the cortex)."""
    vent, brain = _masks(images)
    head = (images > 0.1 * images.amax(dim=(1, 2, 3), keepdim=True)).float()
    w_v = _unit(spatial_gradient(gaussian_smooth(vent, 3.0)))
    w_c = -_unit(spatial_gradient(gaussian_smooth(head, 2.0)))
    return w_v, w_c


def _smooth_random(n: int, shape: tuple[int, int], grid: tuple[int, int], rng: torch.Generator,
                   channels: int = 1) -> Tensor:
    """``(n, channels, *shape)`` smooth random field in about [-1, 1]: a random grid, bicubic upsampled."""
    coarse = torch.rand(n, channels, *grid, generator=rng) * 2 - 1
    return F.interpolate(coarse, size=shape, mode="bicubic", align_corners=True)


@functools.lru_cache(maxsize=4)
def subjects(seed: int, count: int, cache_dir: str = "") -> Cohort:
    """The ``count`` pseudo-subjects of ``seed`` (cached per process; do not modify)."""
    rng = torch.Generator().manual_seed(10_007 * seed + 17)
    template = template_slices(cache_dir)
    h, w = SHAPE
    u = torch.rand(count, generator=rng)
    cum = torch.tensor(np.cumsum(GROUP_PROBS), dtype=torch.float32)
    group = torch.bucketize(u, cum[:-1], right=True)
    lo = torch.tensor([STAGE_RANGE[g][0] for g in group.tolist()])
    hi = torch.tensor([STAGE_RANGE[g][1] for g in group.tolist()])
    stage = lo + (hi - lo) * torch.rand(count, generator=rng)
    which = torch.randint(len(SLAB), (count,), generator=rng)

    # anatomy: a random smooth deformation plus a random scaling and rotation
    field = ANATOMY_PX * _smooth_random(count, SHAPE, (4, 5), rng, channels=2)
    scale = 1 + 0.07 * (torch.rand(count, generator=rng) * 2 - 1)
    angle = math.radians(5.0) * (torch.rand(count, generator=rng) * 2 - 1)
    rows = torch.arange(h, dtype=torch.float32).view(1, h, 1) - (h - 1) / 2
    cols = torch.arange(w, dtype=torch.float32).view(1, 1, w) - (w - 1) / 2
    cos, sin = torch.cos(angle).view(-1, 1, 1), torch.sin(angle).view(-1, 1, 1)
    s = scale.view(-1, 1, 1)
    affine = torch.stack([(cos * rows - sin * cols) / s - rows, (sin * rows + cos * cols) / s - cols], dim=1)
    anatomy = warp(template[which], field + affine)

    # pre-existing, stage-dependent ventricular enlargement (what the baseline scan shows)
    w_v, _ = unit_fields(anatomy)
    vent, _ = _masks(anatomy)
    gain = _area_change(vent, exp_field(w_v, 1.0)).clamp_min(1.0)  # % per pixel of amplitude
    pre = exp_field(w_v * (PRE_VENTRICLE * stage / gain).view(-1, 1, 1, 1), 1.0)
    anatomy = warp(anatomy, pre)

    # the subject's contrast: gamma, gain, smooth bias
    gamma = 1 + 0.15 * (torch.rand(count, generator=rng) * 2 - 1)
    bias = torch.exp(0.05 * _smooth_random(count, SHAPE, (3, 3), rng))
    gain_c = 1 + 0.06 * (torch.rand(count, generator=rng) * 2 - 1)
    images = (anatomy.clamp(0, 1) ** gamma.view(-1, 1, 1, 1) * bias * gain_c.view(-1, 1, 1, 1)).clamp(0, 1)

    # annual rates and the velocity field that realises them on this anatomy
    v_rate = VENTRICLE_RATE[0] + VENTRICLE_RATE[1] * stage + RATE_JITTER[0] * torch.randn(count, generator=rng)
    b_rate = BRAIN_RATE[0] + BRAIN_RATE[1] * stage + RATE_JITTER[1] * torch.randn(count, generator=rng)
    v_rate, b_rate = v_rate.clamp_min(0.5), b_rate.clamp_min(0.1)
    w_v, w_c = unit_fields(anatomy)
    vent, brain = _masks(anatomy)
    g_v = _area_change(vent, exp_field(w_v, 1.0)).clamp_min(1.0)
    a_v = v_rate / g_v
    brain_by_v = _area_change(brain, exp_field(w_v * a_v.view(-1, 1, 1, 1), 1.0))  # < 0: parenchyma lost
    g_c = (-_area_change(brain, exp_field(w_c, 1.0))).clamp_min(0.05)
    a_c = ((b_rate + brain_by_v) / g_c).clamp_min(0.0)
    velocity = w_v * a_v.view(-1, 1, 1, 1) + w_c * a_c.view(-1, 1, 1, 1)
    return Cohort(images.contiguous(), velocity.contiguous(), group, stage, v_rate, b_rate)


def visit(clean: Tensor, rng: torch.Generator, noise: float = NOISE, drift: float = DRIFT) -> Tensor:
    """One scan of noise-free ``clean (1, H, W)``: intensity drift (gain, smooth bias), then noise."""
    h, w = clean.shape[-2:]
    gain = 1 + drift * torch.randn((), generator=rng)
    bias = 1 + 0.5 * drift * _smooth_random(1, (h, w), (3, 3), rng)[0]
    scan = clean * gain * bias + noise * torch.randn(clean.shape, generator=rng)
    return scan.clamp(0, 1)


def follow_up(clean: Tensor, velocity: Tensor, years: float) -> tuple[Tensor, Tensor]:
    """``(image (1, H, W), sampling field (2, H, W))``: ``clean`` warped by ``exp(years v)``."""
    field = exp_field(velocity[None], float(years))
    return warp(clean[None], field)[0], field[0]
