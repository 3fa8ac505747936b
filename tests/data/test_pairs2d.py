"""Paired 2D slices: mni152 contrasts and CSV/JSON manifests of the user's volumes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recon.data.pairs2d import PairSpec, load_split_pairs
from recon.errors import DataError
from tests.data.helpers import phantom_volume, write_nifti


def test_mni152_pairs_are_aligned_and_split_by_slab() -> None:
    from recon.data import contrasts
    from recon.data.sources import mni152_tissue

    spec = PairSpec(source="mni152", roles=("t1", "t2"), multiple=4)
    splits = {s: load_split_pairs(spec, s) for s in ("train", "val", "test")}
    for items in splits.values():
        assert items and all(set(d) == {"t1", "t2"} and d["t1"].shape == d["t2"].shape for _, d in items)
    # the T2 slice is the spin-echo equation on the same slice of the tissue maps
    from recon.data.split_record import recorded_splits

    record = next(r for r in recorded_splits("mni152") if r["kind"] == "pairs2d" and r.get("roles") == ["t1", "t2"])
    start, stop = record["splits"]["test"]["slices"]
    val_stop = record["splits"]["val"]["slices"][1]
    assert start - val_stop == spec.gap  # a gap of slices between val and test
    s = contrasts.tissue_signals("t2")
    z = start  # the first test slice has foreground, so it is the first test item
    expected = sum(s[t] * mni152_tissue(t)[:, :, z] for t in ("gm", "wm", "csf"))
    h, w = splits["test"][0][1]["t2"].shape[-2:]
    top, left = (expected.shape[0] - h) // 2, (expected.shape[1] - w) // 2
    np.testing.assert_allclose(splits["test"][0][1]["t2"][0], expected[top:top + h, left:left + w], rtol=1e-5)


def _manifest(tmp_path: Path, rows: list[dict[str, str]], kind: str = "csv") -> Path:
    if kind == "json":
        path = tmp_path / "pairs.json"
        path.write_text(json.dumps(rows))
        return path
    path = tmp_path / "pairs.csv"
    columns = list(rows[0])
    path.write_text(",".join(columns) + "\n" + "".join(",".join(r[c] for c in columns) + "\n" for r in rows))
    return path


def _subjects(tmp_path: Path, n: int = 3, t2_shape: tuple[int, int, int] = (48, 48, 40)) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        (tmp_path / f"s{i}").mkdir()
        t1 = phantom_volume((48, 48, 40), seed=i)
        write_nifti(tmp_path / f"s{i}" / "t1.nii.gz", t1)
        t2 = 1.0 - t1 if t2_shape == (48, 48, 40) else phantom_volume(t2_shape, seed=i)
        affine = np.diag([48 / t2_shape[0], 48 / t2_shape[1], 40 / t2_shape[2], 1.0])
        write_nifti(tmp_path / f"s{i}" / "t2.nii.gz", t2 * (t1 > 0) if t2.shape == t1.shape else t2, affine)
        rows.append({"subject": f"sub{i}", "t1": f"s{i}/t1.nii.gz", "t2": f"s{i}/t2.nii.gz"})
    return rows


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_manifest_pairs_split_by_subject(tmp_path: Path, kind: str) -> None:
    manifest = _manifest(tmp_path, _subjects(tmp_path), kind)
    spec = PairSpec(source=str(manifest), roles=("t1", "t2"), min_foreground=0.05)
    seen = {s: {vid for vid, _ in load_split_pairs(spec, s)} for s in ("train", "val", "test")}
    assert all(seen.values())
    assert not (seen["train"] & seen["test"]) and not (seen["train"] & seen["val"])
    _, first = load_split_pairs(spec, "test")[0]
    assert first["t1"].shape == first["t2"].shape == (1, 48, 48)


def test_manifest_missing_column(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, _subjects(tmp_path))
    with pytest.raises(DataError, match=r"pairs.csv: no column 'flair' \(columns: t1, t2\)"):
        load_split_pairs(PairSpec(source=str(manifest), roles=("t1", "flair")), "train")


def test_manifest_missing_file(tmp_path: Path) -> None:
    rows = _subjects(tmp_path)
    rows[1]["t2"] = "s1/nope.nii.gz"
    manifest = _manifest(tmp_path, rows)
    with pytest.raises(DataError, match=r"pairs.csv row 2: t2 file .*nope.nii.gz: no such file"):
        load_split_pairs(PairSpec(source=str(manifest)), "train")


def test_mismatched_shapes_refused_or_resampled(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, _subjects(tmp_path, t2_shape=(24, 24, 20)))
    with pytest.raises(DataError, match=r"row 1: t2 .*t2.nii.gz has shape \(24, 24, 20\) but t1 .*t1.nii.gz"):
        load_split_pairs(PairSpec(source=str(manifest)), "train")
    pairs = load_split_pairs(PairSpec(source=str(manifest), resample=True, min_foreground=0.05), "train")
    assert all(d["t1"].shape == d["t2"].shape for _, d in pairs)
