"""Datasets of ``mri_progression``: simulated pseudo-subjects, or the user's CSV manifest.

Every item is a dict of tensors:

* ``input`` ``(1, H, W)``: the baseline scan in [0, 1]; ``target`` ``(1, H, W)``: the follow-up;
* ``years`` ``(1,)``: the interval; ``group`` ``(3,)``: one-hot healthy / MCI / AD (zeros: unknown);
* ``maps`` ``(2, H, W)``: the baseline's soft ventricle and brain maps (:func:`recon_progression.segment.masks`);
* ``volumes`` ``(2,)``: ventricle and brain volume (pixels) of the target by the fixed segmentation;
* evaluation items also ``volume``: the case id (the unit core scores).

Splits are by subject (no subject in two splits), seeded by ``cfg.seed``, and recorded for
``splits.json``. Training item ``i`` is a pure function of ``(cfg.seed, i)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import RunConfig, record_split, sample_generator
from recon_progression import manifest, simulate
from recon_progression.segment import masks, segment

SIMULATED = "simulated"
EVAL_SEED = 0


def is_simulated(cfg: RunConfig) -> bool:
    return str(cfg.data.source) == SIMULATED


def split_subjects(ids: list[str], cfg: RunConfig) -> dict[str, list[str]]:
    """``{"train", "val", "test"}`` lists of subject ids: a seeded permutation cut by
    ``data.test_fraction`` and ``data.val_fraction`` (every subject is test data without a holdout)."""
    d = cfg.data
    if not d.holdout:
        return {"train": [], "val": [], "test": list(ids)}
    order = np.random.default_rng(cfg.seed + 7).permutation(len(ids))
    n_test = max(1, int(round(d.test_fraction * len(ids)))) if d.test_fraction > 0 else 0
    n_val = max(1, int(round(d.val_fraction * len(ids)))) if d.val_fraction > 0 else 0
    shuffled = [ids[i] for i in order]
    return {"test": sorted(shuffled[:n_test]), "val": sorted(shuffled[n_test:n_test + n_val]),
            "train": sorted(shuffled[n_test + n_val:])}


def one_hot(group: int) -> Tensor:
    """``(3,)``: one-hot of a group index, zeros for -1 (unknown)."""
    out = torch.zeros(len(simulate.GROUPS))
    if group >= 0:
        out[group] = 1.0
    return out


def make_item(baseline: Tensor, followup: Tensor, years: float, group: int) -> dict[str, Tensor]:
    """The item of one (baseline ``(1, H, W)``, follow-up ``(1, H, W)``) pair."""
    seg = segment(followup[0].numpy())
    return {"input": baseline.float().contiguous(), "target": followup.float().contiguous(),
            "years": torch.tensor([float(years)]), "group": one_hot(group),
            "maps": torch.from_numpy(masks(baseline[0].numpy())),
            "volumes": torch.tensor([seg.ventricle_area, seg.brain_area], dtype=torch.float32)}


# -- simulated data ------------------------------------------------------------------------
def cohort(cfg: RunConfig) -> simulate.Cohort:
    return simulate.subjects(int(cfg.seed), int(cfg.data.subjects), str(cfg.data.cache_dir))


def simulated_split(cfg: RunConfig, split: str) -> list[int]:
    """Subject indices of ``split`` (recorded for splits.json)."""
    d = cfg.data
    ids = [f"sub-{i:04d}" for i in range(int(d.subjects))]
    parts = split_subjects(ids, cfg)
    record_split(f"{SIMULATED}:subject:{cfg.seed}:{d.subjects}",
                 {"source": SIMULATED, "rule": "subject", "seed": int(cfg.seed), "subjects": int(d.subjects),
                  "note": "pseudo-subjects simulated from the MNI152 template (recon_progression.simulate)",
                  **{name: ids_ for name, ids_ in parts.items()}})
    return [int(s.split("-")[1]) for s in parts[split]]


class SimulatedTrain(Dataset):
    """Training pairs: a random training subject, a random interval in ``[0, data.max_years]``,
    independent visits (drift and noise) for baseline and follow-up."""

    def __init__(self, cfg: RunConfig, subjects: list[int]) -> None:
        if not subjects:
            from recon.api import DataError

            raise DataError("mri_progression: the training split has no subject (raise data.subjects)")
        self.cohort, self.subjects, self.seed = cohort(cfg), subjects, int(cfg.seed)
        self.max_years, self.noise, self.drift = float(cfg.data.max_years), float(cfg.data.noise), \
            float(cfg.data.drift)

    def __len__(self) -> int:
        return 2**31 - 1

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = sample_generator(self.seed, index)
        s = self.subjects[int(torch.randint(len(self.subjects), (), generator=rng))]
        years = float(torch.rand((), generator=rng)) * self.max_years
        return simulated_pair(self.cohort, s, years, rng, self.noise, self.drift)


def simulated_pair(c: simulate.Cohort, s: int, years: float, rng: torch.Generator, noise: float,
                   drift: float) -> dict[str, Tensor]:
    clean = c.images[s]
    baseline = simulate.visit(clean, rng, noise, drift)
    followup = simulate.visit(simulate.follow_up(clean, c.velocity[s], years)[0], rng, noise, drift)
    item = make_item(baseline, followup, years, int(c.group[s]))
    item["subject"] = torch.tensor(s)
    return item


class SimulatedEval(Dataset):
    """Fixed evaluation cases: every subject of the split at each interval of ``EVAL_YEARS``."""

    def __init__(self, cfg: RunConfig, subjects: list[int]) -> None:
        self.cohort = cohort(cfg)
        self.cases = [(s, y) for s in subjects for y in simulate.EVAL_YEARS]
        self.noise, self.drift = float(cfg.data.noise), float(cfg.data.drift)

    def __len__(self) -> int:
        return len(self.cases)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        s, years = self.cases[index]
        item = simulated_pair(self.cohort, s, years, sample_generator(EVAL_SEED, 1000 * s + index),
                              self.noise, self.drift)
        item["volume"] = torch.tensor(index)
        return item


# -- the user's manifest -------------------------------------------------------------------
class ManifestPairs(Dataset):
    """Slices of the manifest's rows: ``(row id, baseline slice, follow-up slice, years, group)``;
    training draws slices at random from ``(seed, index)``, evaluation lists them in order."""

    def __init__(self, rows: list[manifest.Row], train: bool, seed: int) -> None:
        self.slices = [(r.index, b, f, r.years, r.group)
                       for r in rows for b, f in zip(*manifest.slices(r), strict=True)]
        self.train, self.seed = train, seed
        if not self.slices:
            from recon.api import DataError

            raise DataError("mri_progression: the manifest split has no slice with brain in it")

    def __len__(self) -> int:
        return 2**31 - 1 if self.train else len(self.slices)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        if self.train:
            index = int(torch.randint(len(self.slices), (), generator=sample_generator(self.seed, index)))
        row, b, f, years, group = self.slices[index]
        item = make_item(torch.from_numpy(b)[None], torch.from_numpy(f)[None], years, group)
        if not self.train:
            item["volume"] = torch.tensor(row)
        return item


def build(cfg: RunConfig, split: str) -> Dataset:
    """The dataset of ``split`` for ``cfg.data.source`` (``simulated`` or a manifest path)."""
    if is_simulated(cfg):
        subjects = simulated_split(cfg, split)
        return SimulatedTrain(cfg, subjects) if split == "train" else SimulatedEval(cfg, subjects)
    rows = manifest.read(cfg)
    parts = split_subjects(sorted({r.subject for r in rows}), cfg)
    record_split(f"{cfg.data.source}:subject:{cfg.seed}",
                 {"source": str(cfg.data.source), "rule": "subject", "seed": int(cfg.seed), **parts})
    chosen = [r for r in rows if r.subject in set(parts[split])]
    return ManifestPairs(chosen, split == "train", int(cfg.seed))


def training_rows(cfg: RunConfig) -> list[Any]:
    """The manifest rows of the training split (for the group-mean baseline)."""
    rows = manifest.read(cfg)
    train = set(split_subjects(sorted({r.subject for r in rows}), cfg)["train"])
    return [r for r in rows if r.subject in train]
