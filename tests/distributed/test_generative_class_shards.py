"""Per-class FID/KID of a conditional generator under two gloo processes equal those of one process."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from tests import gloo
from tests.distributed.test_generative_shards import evaluate_stylegan2
from tests.gloo import run_on_two_ranks

OVERRIDES = ["data.source=mni152", "data.labels=contrast", "eval.n_samples=12", "eval.batch_size=4",
             "eval.max_images=6", "eval.baselines=false", "trainer.progress=false"]


@pytest.mark.skipif(not gloo.available, reason="no gloo backend")
def test_two_processes_score_each_class_as_one(tmp_path: Path) -> None:
    from recon.metrics import inception_status

    if not inception_status()[0]:
        pytest.skip("no InceptionV3 weights: nothing is scored")
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    evaluate = functools.partial(evaluate_stylegan2, overrides=OVERRIDES)
    evaluate(one)
    run_on_two_ranks(evaluate, two)
    a, b = json.loads(one.read_text()), json.loads(two.read_text())
    keys = {f"{m}_class_{c}" for m in ("fid", "kid") for c in ("t1", "t2", "pd")}
    assert keys <= set(a["metrics"])  # 3 batches of 4 over 2 ranks: samples i % 3 == c on both ranks
    assert b["metrics"] == pytest.approx(a["metrics"], rel=1e-6)
    assert b["conventions"]["per_class"] == a["conventions"]["per_class"]
