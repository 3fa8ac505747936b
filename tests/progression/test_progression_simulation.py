"""The simulated longitudinal data: deterministic, split by subject, atrophy that follows the rates."""

from __future__ import annotations

import numpy as np
import torch

from recon.config import build_config
from recon.plugins import get_task
from recon_progression import data, simulate
from recon_progression.metrics import volumes
from recon_progression.warp import exp_field, log_jacobian


def _cfg(*overrides: str):
    task = get_task("mri_progression")
    return task, build_config(task, "smoke", overrides=list(overrides))


def test_simulation_is_deterministic() -> None:
    task, cfg = _cfg()
    a, b = task.build_dataset(cfg, "train"), task.build_dataset(cfg, "train")
    for index in (0, 5, 1234):
        x, y = a[index], b[index]
        assert x.keys() == y.keys()
        for key in x:
            assert torch.equal(x[key], y[key]), key
    simulate.subjects.cache_clear()
    again = task.build_dataset(cfg, "test")[3]
    simulate.subjects.cache_clear()
    assert all(torch.equal(again[k], task.build_dataset(cfg, "test")[3][k]) for k in again)


def test_another_seed_gives_other_subjects() -> None:
    task, cfg = _cfg()
    _, other = _cfg("seed=1")
    assert not torch.equal(data.cohort(cfg).images, data.cohort(other).images)


def test_splits_are_by_subject_and_recorded(progression_run) -> None:
    import json

    record = json.loads((progression_run / "splits.json").read_text())["sources"][0]
    assert record["rule"] == "subject" and record["source"] == "simulated"
    train, val, test = (set(record[k]) for k in ("train", "val", "test"))
    assert train and val and test
    assert not (train & val or train & test or val & test)
    task, cfg = _cfg()
    subjects = {int(task.build_dataset(cfg, "test")[i]["subject"]) for i in range(8)}
    assert {f"sub-{s:04d}" for s in subjects} <= test


def test_zero_interval_follow_up_is_the_baseline_within_noise() -> None:
    _, cfg = _cfg()
    c = data.cohort(cfg)
    follow, field = simulate.follow_up(c.images[0], c.velocity[0], 0.0)
    assert torch.equal(field, torch.zeros_like(field))
    assert torch.allclose(follow, c.images[0], atol=1e-6)


def test_atrophy_grows_with_the_interval_and_faster_in_ad() -> None:
    _, cfg = _cfg("data.subjects=40")
    c = data.cohort(cfg)
    rates = {}
    for s in range(len(c)):
        clean = c.images[s][0].numpy()
        v0, b0 = volumes(clean)
        changes = [volumes(simulate.follow_up(c.images[s], c.velocity[s], t)[0][0].numpy()) for t in (1, 3, 5)]
        vent = [100 * (v - v0) / v0 for v, _ in changes]
        brain = [100 * (b - b0) / b0 for _, b in changes]
        assert vent[0] < vent[1] < vent[2], (s, vent)
        assert brain[0] > brain[1] > brain[2], (s, brain)
        rates.setdefault(int(c.group[s]), []).append(vent[2] / 5)
    assert np.mean(rates[2]) > np.mean(rates[0])  # AD ventricles expand faster than healthy ones


def test_rate_depends_on_what_the_baseline_shows() -> None:
    """Within a group, subjects with larger ventricles (a later stage) progress faster."""
    _, cfg = _cfg("data.subjects=60")
    c = data.cohort(cfg)
    size = np.array([volumes(c.images[s][0].numpy())[0] for s in range(len(c))])
    assert np.corrcoef(c.stage.numpy(), size)[0, 1] > 0.3
    assert np.corrcoef(c.stage.numpy(), c.ventricle_rate.numpy())[0, 1] > 0.9


def test_true_deformation_is_diffeomorphic() -> None:
    _, cfg = _cfg()
    c = data.cohort(cfg)
    jac = log_jacobian(exp_field(c.velocity, 5.0))
    assert torch.isfinite(jac).all() and float(jac.min()) > np.log(1e-3) + 1e-3
