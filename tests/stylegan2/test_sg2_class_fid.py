"""Per-class FID/KID of conditional StyleGAN2 (``fid_class_<name>``, ``kid_class_<name>``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from recon.metrics import class_key, class_scores

CLASSES = ["t1", "t2", "pd"]
CONTRAST = ["data.source=mni152", "data.labels=contrast", "trainer.progress=false"]


def _inception() -> bool:
    from recon.metrics import inception_status

    return inception_status()[0]


needs_inception = pytest.mark.skipif(not _inception(), reason="no InceptionV3 weights: nothing is scored")


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One conditional smoke run: 12 samples (4 per contrast) against 12 test slices."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("sg2cls") / "run"
    sets = [*CONTRAST, "eval.n_samples=12", "eval.val_samples=6", "eval.max_images=12"]
    code = main(["run", "--task", "stylegan2", "--preset", "smoke", "--out", str(out),
                 *(arg for s in sets for arg in ("--set", s))])
    assert code == 0
    return out


def _evaluate(overrides: list[str]) -> tuple[dict, object, object, object]:
    """(eval structure of the test split, task, cfg, parts) of a seeded, untrained conditional G."""
    from recon.config import build_config
    from recon.evaluation import evaluate_task
    from recon.plugins import get_task
    from recon.train.networks import setup_parts

    task = get_task("stylegan2")
    cfg = build_config(task, preset="smoke", overrides=[*CONTRAST, *overrides])
    task.validate(cfg)
    torch.manual_seed(0)
    parts = setup_parts(task, cfg, None)
    return evaluate_task(task, parts, cfg, parts.generator, "test", torch.device("cpu")), task, cfg, parts


def test_class_keys_and_too_few_rows() -> None:
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(7, 5)), rng.normal(size=(5, 5))
    scored = class_scores(real, np.array([0, 0, 0, 1, 1, 1, 2]), fake, np.arange(5) % 3, CLASSES,
                          subsets=3, subset_size=4, split="test")
    assert class_key("kid_std", "t1") == "kid_class_t1_std"
    assert set(scored.metrics) == {f"{m}_class_{c}" for m in ("fid", "kid") for c in ("t1", "t2")} \
        | {"kid_class_t1_std", "kid_class_t2_std"}
    assert scored.n_real == {"t1": 3, "t2": 3, "pd": 1} and scored.n_fake == {"t1": 2, "t2": 2, "pd": 1}
    assert scored.not_computed["pd"] == ("not computed: FID/KID need at least 2 real images of class pd, "
                                         "the test split has 1")
    few = class_scores(real, np.zeros(7, int), fake[:1], np.zeros(1, int), ["a"], subsets=3, subset_size=4)
    assert few.metrics == {} and "at least 2 samples of class a" in few.not_computed["a"]


@needs_inception
def test_conditional_run_reports_fid_and_kid_per_class(cond_run: Path) -> None:
    result = json.loads((cond_run / "eval.json").read_text())
    metrics, per_class = result["metrics"], result["conventions"]["per_class"]
    for name in CLASSES:
        for metric in ("fid", "kid", "kid_std"):
            assert math.isfinite(metrics[class_key(metric, name)])
        assert metrics[class_key("fid", name)] > 0
    assert per_class["classes"] == CLASSES and per_class["n_generated"] == {"t1": 4, "t2": 4, "pd": 4}
    assert sum(per_class["n_real"].values()) == result["n_real"] == 12 and "not_computed" not in per_class
    for row in result["baselines"]:  # sample baselines draw no class
        assert not any("_class_" in key for key in row["metrics"])
    logged = [json.loads(line) for line in (cond_run / "metrics.jsonl").read_text().splitlines()]
    assert any("val/fid_class_t1" in record for record in logged)


@needs_inception
def test_per_class_fid_equals_fid_of_the_class_features() -> None:
    """An independent extraction: the sampler's samples of class c (i % 3 == c) and the test
    split's images labelled c, through the Inception extractor and ``fid_from_features``."""
    from recon.metrics import InceptionFeatureExtractor, fid_from_features, kid

    n = 12
    result, task, cfg, parts = _evaluate([f"eval.n_samples={n}", "eval.max_images=12", "eval.baselines=false"])
    extractor = InceptionFeatureExtractor(torch.device("cpu"), cfg.eval.inception_weights or None, batch_size=16)
    fake = extractor(parts.sampler(parts.generator, range(n), cfg.seed, torch.device("cpu")))[0]
    dataset = task.build_dataset(cfg, "test")
    items = [dataset[i] for i in range(len(dataset))]
    reals = torch.stack([it["target"] for it in items])
    labels = np.array([int(it["label"]) for it in items])
    real = extractor(reals)[0]
    for index, name in enumerate(CLASSES):
        r, f = real[labels == index], fake[np.arange(n) % 3 == index]
        assert result["metrics"][f"fid_class_{name}"] == pytest.approx(fid_from_features(r, f), rel=1e-3)
        expected = kid(r, f, subsets=cfg.eval.kid_subsets, subset_size=cfg.eval.kid_subset_size, seed=0)[0]
        assert result["metrics"][f"kid_class_{name}"] == pytest.approx(expected, rel=1e-3, abs=1e-6)
    assert result["metrics"]["fid"] == pytest.approx(fid_from_features(real, fake), rel=1e-3)


@needs_inception
def test_a_class_with_one_real_image_says_why_not() -> None:
    result, task, cfg, _ = _evaluate(["eval.n_samples=6", "eval.max_images=4", "eval.baselines=false"])
    dataset = task.build_dataset(cfg, "test")
    counts = np.bincount([int(dataset[i]["label"]) for i in range(len(dataset))], minlength=3)
    single = [name for name, count in zip(CLASSES, counts, strict=True) if count < 2]
    assert single, f"max_images=4 should leave a class with one image, got {counts}"
    per_class = result["conventions"]["per_class"]
    for name, count in zip(CLASSES, counts, strict=True):
        if count < 2:
            assert per_class["not_computed"][name] == (f"not computed: FID/KID need at least 2 real images of "
                                                       f"class {name}, the test split has {count}")
            assert f"fid_class_{name}" not in result["metrics"]
        else:
            assert f"fid_class_{name}" in result["metrics"] and name not in per_class["not_computed"]


def test_unconditional_and_no_weights_have_no_per_class_figures() -> None:
    result, *_ = _evaluate(["data.labels=", "data.source=faces", "eval.n_samples=4", "eval.max_images=4",
                            "eval.baselines=false", "eval.fid=false"])
    assert "per_class" not in result["conventions"]
    result, *_ = _evaluate(["eval.n_samples=6", "eval.max_images=6", "eval.baselines=false", "eval.fid=false"])
    assert result["conventions"]["per_class"] == "not computed: disabled (eval.fid=false)"
    assert not any("_class_" in key for key in result["metrics"])
