"""Runs on fastMRI ``.h5`` files write splits.json: which files went to train/val/test."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from recon_kspace.fastmri_io import make_fake_fastmri
from tests.conftest import SMOKE


def test_a_fastmri_run_writes_splits_json(cli, tmp_path: Path) -> None:
    data = tmp_path / "knee"
    data.mkdir()
    for i in range(5):
        make_fake_fastmri(data / f"file{i}.h5", num_slices=2, num_coils=0, shape=(32, 32), seed=i)
    with h5py.File(data / "challenge.h5", "w") as f:  # k-space without a reference: left out by skip_bad
        f.create_dataset("kspace", data=np.ones((2, 32, 32), np.complex64))
    run = tmp_path / "run"
    result = cli("run", "--task", "mri_kspace", *SMOKE, "--data", data, "--out", run, "--set", "data.skip_bad=true",
                 "--set", "trainer.max_steps=2", "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0")
    assert result.code == 0, result.err
    written = json.loads((run / "splits.json").read_text())
    assert written["format"] == "recon-splits"
    [record] = written["sources"]
    assert record["kind"] == "fastmri" and record["method"] == "subject" and record["seed"] == 0
    splits = {name: record["splits"][name]["items"] for name in ("train", "val", "test")}
    assert all(splits.values())
    everything = [Path(p).name for items in splits.values() for p in items]
    assert sorted(everything) == [f"file{i}.h5" for i in range(5)]  # each usable file in exactly one split
    assert len(record["skipped"]) == 1 and "challenge.h5" in record["skipped"][0]
    assert set(record["normalization"]) == set(record["num_slices"]) == {p for v in splits.values() for p in v}
    assert all(n == {"method": "max", "offset": 0.0, "scale": n["scale"]} and n["scale"] > 0
               for n in record["normalization"].values())
    # the files evaluated are the test split's
    assert json.loads((run / "eval.json").read_text())["n_volumes"] == len(splits["test"])
