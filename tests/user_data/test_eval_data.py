"""``recon eval --data``: says "your data", evaluates every image unless ``--max-images`` caps it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

N_IMAGES = 5


def _ckpt(run: Path) -> Path:
    return run / "checkpoints" / "last.pt"


def _pngs(folder: Path) -> Path:
    folder.mkdir()
    yy, xx = np.mgrid[:48, :52]
    for i in range(N_IMAGES):
        disc = ((yy - 24) ** 2 + (xx - 26) ** 2 < (14 + i) ** 2) * (0.5 + 0.08 * i)
        image = disc + 0.2 * np.sin(xx / (3 + i)) * disc
        Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8)).save(folder / f"img{i}.png")
    return folder


def test_eval_on_your_data_evaluates_every_image(cli, smoke_run: Path, tmp_path: Path) -> None:
    folder = _pngs(tmp_path / "pngs")
    table = cli("eval", "--checkpoint", _ckpt(smoke_run), "--data", folder)
    assert table.code == 0, table.err
    title = table.out.splitlines()[0]
    assert title == f"mri_superres on your data ({N_IMAGES} images)"
    assert "split" not in title and "note" not in table.err
    report = json.loads(cli("eval", "--checkpoint", _ckpt(smoke_run), "--data", folder, "--json", "-").out)
    assert report["n_images"] == N_IMAGES  # not the smoke preset's eval.max_images (4)
    assert report["data"] == str(folder.resolve()) and "n_available" not in report


def test_max_images_caps_and_says_so(cli, smoke_run: Path, tmp_path: Path) -> None:
    folder = _pngs(tmp_path / "pngs")
    out = tmp_path / "eval.json"
    result = cli("eval", "--checkpoint", _ckpt(smoke_run), "--data", folder, "--max-images", "2", "--json", out)
    assert result.code == 0, result.err
    report = json.loads(out.read_text())
    assert report["n_images"] == 2 and report["n_available"] == N_IMAGES
    assert result.out.splitlines()[0] == f"mri_superres on your data (2 of {N_IMAGES} images)"
    [note] = [line for line in result.err.splitlines() if "note" in line]
    assert f"evaluated 2 of {N_IMAGES} images (--max-images 2)" in note
    # --set eval.max_images=N is a cap on --data too, and says so
    capped = cli("eval", "--checkpoint", _ckpt(smoke_run), "--data", folder, "--set", "eval.max_images=3")
    assert capped.code == 0, capped.err
    assert f"(3 of {N_IMAGES} images)" in capped.out and "eval.max_images=3" in capped.err


def test_the_test_split_keeps_the_checkpoints_cap_and_notes_it(cli, smoke_run: Path) -> None:
    result = cli("eval", "--checkpoint", _ckpt(smoke_run), "--json", "-")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["n_images"] == 4 and report["n_available"] > 4 and "data" not in report  # as the run's eval.json
    assert "eval.max_images=4 of the checkpoint's config" in result.err


def test_bad_max_images_is_one_line(cli, smoke_run: Path, tmp_path: Path) -> None:
    result = cli("eval", "--checkpoint", _ckpt(smoke_run), "--data", _pngs(tmp_path / "pngs"), "--max-images", "-1")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and "--max-images" in result.err
