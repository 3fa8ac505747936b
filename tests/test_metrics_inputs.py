"""Bad inputs are UsageErrors (CLI exit 2) with a clear message, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recon.errors import UsageError
from recon.metrics import (
    fid_from_features,
    frechet_distance,
    image_metrics,
    inception_score,
    kid,
    nmse,
    psnr,
    rgb_to_y,
    ssim,
)

GOOD = np.random.default_rng(0).random((3, 32, 32))


@pytest.mark.parametrize("fn", [psnr, ssim])
@pytest.mark.parametrize("convention", ["sr", "fastmri"])
def test_nan_and_inf_rejected(fn, convention: str) -> None:
    for bad_value in (np.nan, np.inf):
        bad = GOOD.copy()
        bad[0, 1, 1] = bad_value
        with pytest.raises(UsageError, match="NaN/Inf"):
            fn(GOOD, bad, convention)
        with pytest.raises(UsageError, match="NaN/Inf"):
            fn(torch.from_numpy(bad), GOOD, convention)


def test_mismatched_shapes() -> None:
    with pytest.raises(UsageError, match="shapes differ"):
        psnr(GOOD, GOOD[:, :16], "sr")
    with pytest.raises(UsageError, match="shapes differ"):
        nmse(GOOD, GOOD[0])


def test_empty_arrays() -> None:
    with pytest.raises(UsageError, match="empty"):
        psnr(np.zeros((0, 8, 8)), np.zeros((0, 8, 8)), "fastmri")
    with pytest.raises(UsageError, match="empty"):
        nmse([], [])


def test_unknown_convention_lists_valid_ones() -> None:
    with pytest.raises(UsageError, match="sr, fastmri"):
        psnr(GOOD, GOOD, "matlab")
    with pytest.raises(UsageError, match="unknown metric convention"):
        image_metrics(GOOD, GOOD, "")


def test_bad_scale() -> None:
    for scale in (-1, 1.5, True):
        with pytest.raises(UsageError, match="scale"):
            psnr(GOOD, GOOD, "sr", scale=scale)
    with pytest.raises(UsageError, match="cannot crop"):
        psnr(GOOD, GOOD, "sr", scale=16)
    with pytest.raises(UsageError, match="sr convention only"):
        psnr(GOOD, GOOD, "fastmri", scale=2)


def test_wrong_layouts() -> None:
    hwc = np.random.default_rng(1).random((32, 32, 3))
    with pytest.raises(UsageError, match="channel-first"):
        psnr(hwc, hwc, "sr")
    with pytest.raises(UsageError, match=r"\(slices, H, W\)"):
        ssim(np.ones((2, 1, 8, 8)), np.ones((2, 1, 8, 8)), "fastmri")
    with pytest.raises(UsageError, match="at least 7x7"):
        ssim(np.ones((2, 5, 5)), np.ones((2, 5, 5)), "fastmri")
    with pytest.raises(UsageError, match="at least 11x11"):
        ssim(np.ones((1, 20, 20)), np.ones((1, 20, 20)), "sr", scale=5)
    with pytest.raises(UsageError, match="channel-first RGB"):
        rgb_to_y(np.ones((2, 4, 4)))


def test_degenerate_references() -> None:
    zeros = np.zeros((2, 8, 8))
    with pytest.raises(UsageError, match="gt is all zeros"):
        nmse(zeros, zeros + 1)
    with pytest.raises(UsageError, match="gt.max"):
        psnr(zeros, zeros, "fastmri")
    with pytest.raises(UsageError, match="complex"):
        nmse(np.ones(3) + 1j, np.ones(3))
    with pytest.raises(UsageError, match="non-numeric"):
        nmse(np.array(["a"]), np.array(["b"]))


def test_generative_bad_inputs() -> None:
    feats = np.random.default_rng(0).random((10, 4))
    with pytest.raises(UsageError, match=r"\(N, D\)"):
        fid_from_features(feats[0], feats)
    with pytest.raises(UsageError, match="dimensions differ"):
        fid_from_features(feats, feats[:, :3])
    with pytest.raises(UsageError, match="at least 2"):
        kid(feats[:1], feats)
    bad = feats.copy()
    bad[0, 0] = np.nan
    with pytest.raises(UsageError, match="NaN/Inf"):
        kid(bad, feats)
    with pytest.raises(UsageError, match="one D"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(UsageError, match="splits"):
        inception_score(feats, splits=11)
