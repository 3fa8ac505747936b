"""The generator EMA: ramped decay so short runs are not evaluated on their first steps."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from recon.train.ema import EMA, ramped_decay


def test_ramped_decay_grows_to_the_configured_value() -> None:
    assert ramped_decay(0.999, 0) == pytest.approx(0.1)
    assert ramped_decay(0.999, 90) == pytest.approx(0.91)
    assert ramped_decay(0.999, 10**6) == 0.999


def test_ema_follows_a_moving_target_after_a_short_run() -> None:
    model = nn.Linear(1, 1, bias=False)
    ema = EMA(model, decay=0.999)
    for step in range(1000):  # the weight walks from 0 to 1
        with torch.no_grad():
            model.weight.fill_(step / 999)
        ema.update(model, step)
    # the ramped EMA averages roughly the last ~100 updates (about 0.9), a fixed 0.999 EMA
    # would still be near 0.37 because it remembers the start of the run
    assert 0.85 < float(ema.model.weight) < 0.95


def test_before_start_the_ema_copies_the_weights() -> None:
    model = nn.Linear(2, 1)
    ema = EMA(model, decay=0.999, start=5)
    with torch.no_grad():
        model.weight.fill_(3.0)
    ema.update(model, step=2)
    assert torch.equal(ema.model.weight, model.weight)
