"""``recon run --task mri_translation --data pairs.csv``: the user's NIfTI pairs, by manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.conftest import SMOKE
from tests.translation.test_translation_task import HISTOGRAM, assert_clean_failure


def test_manifest_smoke_run_and_eval_on_the_users_pairs(cli, pairs_manifest: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = cli("run", "--task", "mri_translation", *SMOKE, "--data", pairs_manifest, "--out", run,
                 "--set", "data.patch_size=16", "--set", "eval.max_images=0")
    assert result.code == 0, result.err
    saved = json.loads((run / "eval.json").read_text())
    assert saved["baseline"]["name"] == HISTOGRAM and saved["n_volumes"] == 1  # one test subject of four
    # the contrast is a decreasing pixel-wise map: the 1-D lookup learns it, histogram matching cannot
    lookup = saved["baselines"][1]
    assert lookup["name"] == "intensity lookup" and lookup["metrics"]["psnr"] > saved["baseline"]["metrics"]["psnr"]

    # every pair of the manifest as evaluation data; the baselines keep the training statistics
    out = tmp_path / "eval.json"
    evaluated = cli("eval", "--checkpoint", run / "checkpoints" / "last.pt", "--data", pairs_manifest, "--json", out)
    assert evaluated.code == 0, evaluated.err
    every = json.loads(out.read_text())
    assert every["n_volumes"] == 4 and every["baseline"]["name"] == HISTOGRAM
    assert all(np.isfinite(v) for v in every["metrics"].values())


def test_missing_manifest_column_exits_2(cli, pairs_manifest: Path, tmp_path: Path) -> None:
    result = cli("run", "--task", "mri_translation", *SMOKE, "--data", pairs_manifest, "--out", tmp_path / "r",
                 "--set", "data.target=flair")
    assert_clean_failure(result, "pairs.csv: no column 'flair' (columns: t1, t2)")
