"""Baselines of ``mri_progression``: no change, and the group-mean change extrapolated linearly.

* ``no-change``: the baseline scan itself (*the* classical baseline).
* ``group-mean``: the group's mean change per year, scaled by the interval, fitted on the
  training split only. On the simulated data it is a deformation: the mean over the group's
  training subjects of their velocity fields (pixels per year), applied as ``exp(t v_group)``
  (the group's mean deformation scaled by the interval). On a manifest, where no deformation
  is known, it is the mean per-year intensity change ``(follow-up - baseline) / years`` of the
  group's training pairs added ``t`` times to the baseline (this needs all slices on one grid;
  otherwise the row falls back to no change). An unknown group uses the mean over all groups.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from recon.api import RunConfig
from recon_progression import data
from recon_progression.warp import exp_field, warp

NO_CHANGE = "no-change"
GROUP_MEAN = "group-mean"
Batch = dict[str, Tensor]


def _per_group(values: Tensor, groups: Tensor) -> Tensor:
    """``(4, ...)``: the mean of ``values (S, ...)`` per group 0..2, then over all (index 3)."""
    out = [values[groups == g].mean(0) if bool((groups == g).any()) else values.mean(0) for g in range(3)]
    return torch.stack(out + [values.mean(0)])


def _pick(table: Tensor, group: Tensor) -> Tensor:
    """Rows of ``table (4, ...)`` for one-hot ``group (N, 3)`` (index 3 where unknown)."""
    index = torch.where(group.sum(1) > 0, group.argmax(1), torch.full_like(group.argmax(1), 3))
    return table.to(group.device)[index]


def group_mean_velocity(cfg: RunConfig) -> Tensor:
    """``(4, 2, H, W)`` mean velocity (pixels / year) of the training subjects of each group, then of all."""
    c = data.cohort(cfg)
    train = torch.tensor(data.simulated_split(cfg, "train"))
    return _per_group(c.velocity[train], c.group[train])


def group_mean_change(cfg: RunConfig) -> Tensor | None:
    """``(4, 1, H, W)`` mean intensity change per year of the manifest's training pairs; ``None``
    when their slices are not on one grid (or no training pair has a positive interval)."""
    from recon_progression import manifest

    deltas, groups = [], []
    for row in data.training_rows(cfg):
        if row.years <= 0:
            continue
        for b, f in zip(*manifest.slices(row), strict=True):
            deltas.append((f - b) / row.years)
            groups.append(row.group)
    if not deltas or len({d.shape for d in deltas}) != 1:
        return None
    values = torch.from_numpy(np.stack(deltas))[:, None]
    g = torch.tensor(groups)
    known = g >= 0
    table = _per_group(values[known], g[known]) if bool(known.any()) else values.mean(0).expand(4, *values.shape[1:])
    table[3] = values.mean(0)
    return table


def baselines(cfg: RunConfig) -> dict[str, Callable[[Batch], Tensor]]:
    """``{"no-change", "group-mean"}``; the group-mean statistics are fitted on first use."""
    cache: dict[str, Tensor | None] = {}

    def group_mean(batch: Batch) -> Tensor:
        base, years, group = batch["input"], batch["years"].reshape(-1), batch["group"]
        if data.is_simulated(cfg):
            if "v" not in cache:
                cache["v"] = group_mean_velocity(cfg)
            v = _pick(cache["v"], group).to(base)  # type: ignore[arg-type]
            return warp(base, exp_field(v, years.to(base)))
        if "d" not in cache:
            cache["d"] = group_mean_change(cfg)
        table = cache["d"]
        if table is None or tuple(table.shape[-2:]) != tuple(base.shape[-2:]):
            return base
        return (base + years.to(base).view(-1, 1, 1, 1) * _pick(table, group).to(base)).clamp(0, 1)

    return {NO_CHANGE: lambda batch: batch["input"], GROUP_MEAN: group_mean}
