"""Fine-tuning rows of the quality suite (``benchmarks/finetune.py``), in ``--smoke`` mode.

``mri_superres_finetune``: a parent run on the built-in T1 brain, then the T2 brain trained
from scratch and from the parent's checkpoint, scored side by side (three smoke runs).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def finetune_suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """``python -m benchmarks --suite quality --smoke --tasks mri_superres_finetune --out DIR``."""
    out = tmp_path_factory.mktemp("bench_ft") / "out"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--suite", "quality", "--smoke", "--tasks",
                           "mri_superres_finetune", "--out", str(out)], capture_output=True, text=True, cwd=REPO,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, json.loads((out / "results.json").read_text())


def _config(run: dict) -> dict:
    return yaml.safe_load((Path(run["run_dir"]) / "config.yaml").read_text())


def test_finetune_row_trains_parent_scratch_and_fine_tuned_runs(finetune_suite: tuple[Path, dict]) -> None:
    from benchmarks.suite import validate

    _, results = finetune_suite
    assert validate(results) == []
    (record,) = results["quality"]
    assert record["status"] == "ok" and record["label"] == "mri_superres_finetune"
    parent, scratch, tuned = record["runs"]
    assert [r["name"] for r in record["runs"]] == ["parent", "from_scratch", "fine_tuned"]
    assert all(r["returncode"] == 0 for r in record["runs"])
    # the parent is the built-in T1 brain; both children the T2 brain, the same seed and steps
    assert _config(parent)["data"]["source"] == "mni152"
    assert _config(scratch)["data"]["source"] == _config(tuned)["data"]["source"] == "mni152:t2"
    assert scratch["steps"] == tuned["steps"] and _config(scratch)["seed"] == _config(tuned)["seed"]
    # the fine-tuned run records its parent, path and sha256, as --init-from does; the other none
    checkpoint = Path(record["parent"]["checkpoint"])
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert record["parent"]["sha256"] == digest
    assert _config(tuned)["trainer"]["init_from"] == str(checkpoint)
    assert _config(tuned)["trainer"]["init_sha256"] == digest
    assert _config(tuned)["trainer"]["init_parts"] == record["parent"]["init_parts"] == ["generator",
                                                                                          "discriminator"]
    assert _config(scratch)["trainer"]["init_from"] == ""
    out, _ = finetune_suite
    assert f"fine-tuned from the parent run's checkpoint (sha256 {digest[:16]}..." in (out / "results.md").read_text()
    # the row's cost is the fine-tuning run's
    assert (record["wall_s"], record["peak_rss_mb"]) == (round(tuned["wall_s"], 2), tuned["peak_rss_mb"])


def test_finetune_row_scores_the_from_scratch_model_beside_the_fine_tuned_one(
        finetune_suite: tuple[Path, dict]) -> None:
    _, results = finetune_suite
    (record,) = results["quality"]
    _, scratch, tuned = record["runs"]
    assert record["methods"] == ["recon (fine-tuned)", "bicubic", "from scratch", "parent, not fine-tuned"]
    evaluation = json.loads((Path(tuned["run_dir"]) / "eval.json").read_text())
    assert record["metrics"]["recon (fine-tuned)"] == evaluation["metrics"]
    # the parent as is was scored on the fine-tuned run's test images: the same bicubic figures
    assert "--set data.source=mni152:t2" in record["parent"]["eval_command"]
    as_is = json.loads((Path(tuned["run_dir"]).parent / "parent_as_is.json").read_text())
    assert as_is["metrics"] == record["metrics"]["parent, not fine-tuned"]
    assert as_is["baselines"][0]["metrics"] == pytest.approx(record["metrics"]["bicubic"], rel=1e-6)
    # the compared model scores in the fine-tuned run's evaluation what its own run scored
    own = json.loads((Path(scratch["run_dir"]) / "eval.json").read_text())["metrics"]
    assert record["metrics"]["from scratch"] == pytest.approx(own, rel=1e-6)
    # starting from the parent changes the result (the from-scratch and fine-tuned models differ)
    assert record["metrics"]["from scratch"]["psnr"] != record["metrics"]["recon (fine-tuned)"]["psnr"]


def test_bad_parent_declarations_are_usage_errors() -> None:
    from benchmarks.spec import parse_spec
    from recon.errors import UsageError

    (spec,) = parse_spec("t", {"label": "t_ft", "parent": {"overrides": ["data.scale=2"]}})
    assert spec.parent == {"overrides": ["data.scale=2"], "preset": "default",
                           "init_parts": ["generator", "discriminator"]}
    with pytest.raises(UsageError, match="unknown benchmark parent field"):
        parse_spec("t", {"parent": {"override": []}})
    with pytest.raises(UsageError, match="init_parts must name"):
        parse_spec("t", {"parent": {"init_parts": ["optimizer"]}})
    with pytest.raises(UsageError, match="takes no sweep"):
        parse_spec("t", {"parent": {}, "sweep": [0, 1e-3, 2e-3, 5e-3]})
    with pytest.raises(UsageError, match="must be a mapping"):
        parse_spec("t", {"parent": "runs/a/checkpoints/last.pt"})
