"""`recon eval --data` on the files a run held out scores them as the run's own test split did,
and an RGB JPEG folder goes through `recon predict` as RGB JPEGs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false", "--set", "trainer.eval_every=0",
         "--set", "trainer.sample_every=0"]


def _photos(folder: Path, n: int, suffix: str = ".png", rgb: bool = False) -> Path:
    """``n`` textured 64x64 images (gray or RGB)."""
    folder.mkdir()
    yy, xx = np.mgrid[:64, :64]
    for i in range(n):
        image = 0.5 + 0.25 * np.sin(xx / (2.5 + i)) * np.cos(yy / (3.0 + 0.5 * i))
        image[(yy - 32) ** 2 + (xx - 30) ** 2 < (10 + i) ** 2] += 0.2
        array = (np.clip(image, 0, 1) * 255).astype(np.uint8)
        if rgb:
            array = np.stack([array, np.roll(array, 3, 1), 255 - array], axis=-1)
        Image.fromarray(array).save(folder / f"img{i:02d}{suffix}")
    return folder


@pytest.mark.parametrize("task", ["mri_superres", "mri_motion", "mri_kspace", "inpainting"])
def test_eval_on_the_held_out_files_equals_the_runs_test_split(cli, tmp_path: Path, task: str) -> None:
    data = _photos(tmp_path / "data", 12)
    run = tmp_path / "run"
    result = cli("run", "--task", task, *SMOKE, "--data", data, "--out", run,
                 "--set", "data.min_foreground=0", "--set", "eval.max_images=0", "--set", "eval.patch_kid=false")
    assert result.code == 0, result.err
    splits = json.loads((run / "splits.json").read_text())
    [record] = splits["sources"]
    test_files = [Path(item) for item in record["splits"]["test"]["items"]]
    assert test_files
    held_out = tmp_path / "held_out"
    held_out.mkdir()
    for path in test_files:
        (held_out / path.name).write_bytes(path.read_bytes())
    report = json.loads(cli("eval", "--checkpoint", run / "checkpoints" / "last.pt", "--data", held_out,
                            "--set", "eval.patch_kid=false", "--json", "-").out)
    own = json.loads((run / "eval.json").read_text())
    assert report["n_images"] == own["n_images"] >= len(test_files)  # inpainting: patches per image
    assert set(report["metrics"]) == set(own["metrics"])
    for key, value in own["metrics"].items():
        assert report["metrics"][key] == pytest.approx(value, rel=1e-6), key
    assert report["baselines"] == own["baselines"]


def test_rgb_jpeg_folder_predicts_rgb_jpegs(cli, tmp_path: Path) -> None:
    run = tmp_path / "srgan"
    assert cli("run", "--task", "srgan", *SMOKE, "--out", run).code == 0
    photos = _photos(tmp_path / "jpegs", 3, ".jpg", rgb=True)
    result = cli("predict", "--checkpoint", run / "checkpoints" / "last.pt", photos, "-o", tmp_path / "out")
    assert result.code == 0, result.err
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == ["img00.jpg", "img01.jpg", "img02.jpg"]
    for path in written:
        image = Image.open(path)
        assert image.mode == "RGB" and image.format == "JPEG" and image.size[0] > 64
