"""Training pairs stay aligned under augmentation; the baselines match independent references."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recon.config import build_config
from recon.plugins import get_task
from recon_translation.baselines import IntensityModels
from recon_translation.data import pad_to, train_dataset


def _cfg(*overrides: str):
    return build_config(get_task("mri_translation"), "smoke", overrides=list(overrides))


def _pairs(f, shape=(40, 48), n=3, seed=0):
    """Synthetic pairs whose target is ``f(source)`` pixel by pixel; every source value is unique."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        source = rng.permutation(shape[0] * shape[1]).reshape(1, *shape).astype(np.float32) / (shape[0] * shape[1])
        out.append((k, {"t1": source, "t2": f(source).astype(np.float32)}))
    return tuple(out)


def _nonlinear(x):
    return 1.0 - np.sqrt(x)


def test_flips_and_crops_keep_pairs_aligned() -> None:
    cfg = _cfg("data.patch_size=16", "data.augment=true")
    data = train_dataset(cfg, _pairs(_nonlinear))
    corners = set()
    for i in range(40):
        item = data[i]
        assert item["input"].shape == item["target"].shape == (1, 16, 16)
        np.testing.assert_array_equal(item["target"].numpy(), _nonlinear(item["input"].numpy()).astype(np.float32))
        corners.add(float(item["input"][0, 0, 0]))
    assert len(corners) > 30  # the crops and orientations vary from item to item


def test_warps_keep_pairs_aligned_and_intensity_changes_the_input_only() -> None:
    def linear(x):
        return 0.9 - 0.7 * x  # interpolation commutes with an affine intensity map

    base = ["data.patch_size=16", "data.augment=true"]
    pairs = _pairs(linear)
    warped = train_dataset(_cfg(*base, "data.augment_affine=1.0", "data.augment_elastic=1.0"), pairs)
    plain = train_dataset(_cfg(*base), pairs)
    for i in range(6):
        item = warped[i]
        np.testing.assert_allclose(item["target"].numpy(), linear(item["input"].numpy()), atol=1e-5)
        assert not torch.equal(item["input"], plain[i]["input"])  # the warp did something
    # intensity augmentation draws after the crop and flip: same target, altered input
    gamma = train_dataset(_cfg(*base, "data.augment_intensity=1.0"), pairs)
    for i in range(6):
        assert torch.equal(gamma[i]["target"], plain[i]["target"])
        assert not torch.allclose(gamma[i]["input"], plain[i]["input"])


def test_items_are_a_pure_function_of_seed_and_index() -> None:
    pairs = _pairs(_nonlinear)
    a = train_dataset(_cfg("data.patch_size=16", "data.augment_affine=0.5"), pairs)
    b = train_dataset(_cfg("data.patch_size=16", "data.augment_affine=0.5"), pairs)
    other = train_dataset(_cfg("data.patch_size=16", "data.augment_affine=0.5", "seed=1"), pairs)
    for i in (0, 7, 123):
        assert torch.equal(a[i]["input"], b[i]["input"]) and torch.equal(a[i]["target"], b[i]["target"])
    assert any(not torch.equal(a[i]["input"], other[i]["input"]) for i in range(5))


def test_slices_smaller_than_the_patch_are_zero_padded() -> None:
    image = torch.ones(2, 10, 30)
    padded = pad_to(image, 32)
    assert padded.shape == (2, 32, 32)
    assert padded.sum() == image.sum() and torch.equal(padded[:, 11:21, 1:31], image)
    data = train_dataset(_cfg("data.patch_size=64"), _pairs(_nonlinear, shape=(40, 48)))
    assert data[0]["input"].shape == (1, 64, 64)


def test_histogram_baseline_matches_skimage_against_the_pooled_training_targets() -> None:
    from skimage.exposure import match_histograms

    rng = np.random.default_rng(3)
    targets = [rng.gamma(2.0, 0.1, (1, 30, 40)).clip(0, 1).astype(np.float32) for _ in range(5)]
    sources = [rng.random((1, 30, 40)).astype(np.float32) for _ in range(5)]
    models = IntensityModels().fit(sources, targets)
    test = rng.random((2, 1, 30, 40)).astype(np.float32)
    ours = models.histogram_matched(torch.from_numpy(test)).numpy()
    pooled = np.concatenate([t.ravel() for t in targets])[None]  # every training target pixel
    for n in range(2):
        reference = match_histograms(test[n, 0].astype(np.float64), pooled)
        assert np.abs(ours[n, 0] - reference).max() < 0.01
    # the mapping never looks at a test target: same source, same output
    np.testing.assert_array_equal(models.histogram_matched(torch.from_numpy(test)).numpy(), ours)


def test_intensity_lookup_recovers_a_pixelwise_map() -> None:
    pairs = _pairs(_nonlinear, shape=(64, 64), n=4)
    models = IntensityModels().fit([p["t1"] for _, p in pairs], [p["t2"] for _, p in pairs])
    x = torch.linspace(0.01, 0.99, 200).reshape(1, 1, 10, 20)
    np.testing.assert_allclose(models.intensity_lookup(x).numpy(), _nonlinear(x.numpy()), atol=0.02)


def test_an_unfitted_model_cannot_fit_on_nothing() -> None:
    with pytest.raises(ValueError):
        IntensityModels().fit([], [])
