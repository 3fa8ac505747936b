"""PSNR / SSIM / NMSE in the ``sr`` and ``fastmri`` conventions against independent
references: skimage.metrics, skimage.color and the published formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage import color, data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from recon.metrics import (
    CONVENTIONS,
    image_metrics,
    nmse,
    psnr,
    rgb_to_y,
    ssim,
)


def _noisy(x: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(x + rng.normal(0.0, sigma, x.shape), 0.0, 1.0)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    """Real RGB photo, channel-first float in [0, 1], cropped to 256x200 for speed."""
    return data.astronaut()[:256, 100:300].transpose(2, 0, 1) / 255.0


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return data.camera()[::2, ::2] / 255.0


@pytest.fixture(scope="module")
def mni_slab() -> np.ndarray:
    """A real T1 brain volume (MNI152 template, nilearn), 12 axial slices."""
    nilearn_datasets = pytest.importorskip("nilearn.datasets")
    vol = nilearn_datasets.load_mni152_template(resolution=1).get_fdata()
    return np.ascontiguousarray(vol[:, :, 80:92].transpose(2, 0, 1)) * 1000.0


# ---------------------------------------------------------------- Y channel (BT.601)

def test_rgb_to_y_published_coefficients() -> None:
    pixels = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    y = rgb_to_y(pixels.T[:, :, None])[:, 0]
    expected = 16.0 + pixels @ np.array([65.481, 128.553, 24.966])
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y[:2], [16.0, 235.0], atol=1e-12)


def test_rgb_to_y_matches_skimage_rgb2ycbcr(astronaut: np.ndarray) -> None:
    ref = color.rgb2ycbcr(astronaut.transpose(1, 2, 0))[..., 0]
    np.testing.assert_allclose(rgb_to_y(astronaut), ref, atol=1e-10)


def test_rgb_to_y_tensor_keeps_type_and_batch() -> None:
    x = torch.rand(2, 3, 5, 4, dtype=torch.float64)
    y = rgb_to_y(x)
    assert isinstance(y, torch.Tensor) and y.shape == (2, 5, 4)
    np.testing.assert_allclose(y.numpy(), rgb_to_y(x.numpy()), atol=1e-12)


# ---------------------------------------------------------------- sr convention

def _y255(img: np.ndarray) -> np.ndarray:
    """Independent Y: the published formula on channel-last RGB; gray x 255."""
    if img.ndim == 3 and img.shape[0] == 3:
        rgb = img.transpose(1, 2, 0)
        return 16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]
    return np.squeeze(img) * 255.0


def _basicsr_ssim_reference(a: np.ndarray, b: np.ndarray) -> float:
    """BasicSR's _ssim from the published formula: 11x11 Gaussian (sigma 1.5) window,
    valid region, population variances, C1 = (0.01 255)^2, C2 = (0.03 255)^2."""
    t = np.arange(11) - 5.0
    g = np.exp(-(t**2) / (2 * 1.5**2))
    g /= g.sum()
    window = np.outer(g, g)

    def filt(z: np.ndarray) -> np.ndarray:
        return ndimage.correlate(z, window, mode="constant")[5:-5, 5:-5]

    mu1, mu2 = filt(a), filt(b)
    s1, s2, s12 = filt(a * a) - mu1**2, filt(b * b) - mu2**2, filt(a * b) - mu1 * mu2
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s1 + s2 + c2))
    return float(m.mean())


@pytest.mark.parametrize("scale", [0, 2, 4])
def test_sr_psnr_matches_skimage_on_y(astronaut: np.ndarray, scale: int) -> None:
    pred = _noisy(astronaut, 0.05)
    crop = (slice(scale, -scale or None),) * 2
    ref = peak_signal_noise_ratio(_y255(astronaut)[crop], _y255(pred)[crop], data_range=255)
    assert psnr(astronaut, pred, "sr", scale=scale) == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("scale", [0, 3])
def test_sr_ssim_matches_formula_and_skimage(astronaut: np.ndarray, scale: int) -> None:
    pred = _noisy(astronaut, 0.08, seed=1)
    crop = (slice(scale, -scale or None),) * 2
    a, b = _y255(astronaut)[crop], _y255(pred)[crop]
    ours = ssim(astronaut, pred, "sr", scale=scale)
    assert ours == pytest.approx(_basicsr_ssim_reference(a, b), abs=1e-10)
    # skimage's Gaussian SSIM uses the same 11x11 window (truncate 3.5 -> radius 5) and
    # averages the same interior, so it agrees too.
    sk = structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                               use_sample_covariance=False, data_range=255)
    assert ours == pytest.approx(sk, abs=1e-8)


def test_sr_gray_and_batch(camera: np.ndarray) -> None:
    pred = _noisy(camera, 0.05)
    ref_psnr = peak_signal_noise_ratio(camera * 255, pred * 255, data_range=255)
    assert psnr(camera, pred, "sr") == pytest.approx(ref_psnr, abs=1e-10)
    assert psnr(camera[None], pred[None], "sr") == pytest.approx(ref_psnr, abs=1e-10)
    ref_ssim = _basicsr_ssim_reference(camera * 255, pred * 255)
    assert ssim(camera, pred, "sr") == pytest.approx(ref_ssim, abs=1e-10)
    # a batch (N, C, H, W) is the mean of the per-image values
    pred2 = _noisy(camera, 0.1, seed=3)
    batch_gt = np.stack([camera[None], camera[None]])
    batch_pred = np.stack([pred[None], pred2[None]])
    expected = (ssim(camera, pred, "sr") + ssim(camera, pred2, "sr")) / 2
    assert ssim(batch_gt, batch_pred, "sr") == pytest.approx(expected, abs=1e-12)


def test_sr_identical_images() -> None:
    img = np.random.default_rng(0).random((3, 32, 32))
    assert psnr(img, img, "sr") == math.inf
    assert ssim(img, img, "sr") == pytest.approx(1.0, abs=1e-12)


def test_sr_accepts_tensors(astronaut: np.ndarray) -> None:
    pred = _noisy(astronaut, 0.05)
    t_gt = torch.from_numpy(astronaut).float()
    t_pred = torch.from_numpy(pred).float().requires_grad_(True)
    expected = psnr(t_gt.double().numpy(), t_pred.detach().double().numpy(), "sr", scale=2)
    assert psnr(t_gt, t_pred, "sr", scale=2) == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------- fastmri convention

def _fastmri_ssim_reference(gt: np.ndarray, pred: np.ndarray) -> float:
    """fastMRI evaluate.py: skimage SSIM per slice with the volume max, averaged."""
    return float(np.mean([structural_similarity(gt[i], pred[i], data_range=gt.max())
                          for i in range(gt.shape[0])]))


def test_fastmri_random_volume_against_skimage() -> None:
    rng = np.random.default_rng(0)
    gt = rng.random((5, 40, 56)) * 3.0
    pred = gt + rng.normal(0, 0.3, gt.shape)
    assert ssim(gt, pred, "fastmri") == pytest.approx(_fastmri_ssim_reference(gt, pred), abs=1e-9)
    ref_psnr = peak_signal_noise_ratio(gt, pred, data_range=gt.max())
    assert psnr(gt, pred, "fastmri") == pytest.approx(ref_psnr, abs=1e-10)


def test_fastmri_real_mri_volume(mni_slab: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    pred = mni_slab + rng.normal(0, 20.0, mni_slab.shape)
    assert ssim(mni_slab, pred, "fastmri") == pytest.approx(
        _fastmri_ssim_reference(mni_slab, pred), abs=1e-9)
    assert psnr(mni_slab, pred, "fastmri") == pytest.approx(
        peak_signal_noise_ratio(mni_slab, pred, data_range=mni_slab.max()), abs=1e-10)


def test_fastmri_uses_volume_max_not_slice_max() -> None:
    rng = np.random.default_rng(2)
    gt = rng.random((2, 32, 32))
    gt[1] *= 10.0  # slice 0 max ~1, volume max ~10
    pred = gt + rng.normal(0, 0.05, gt.shape)
    per_slice_max = np.mean([structural_similarity(gt[i], pred[i], data_range=gt[i].max())
                             for i in range(2)])
    ours = ssim(gt, pred, "fastmri")
    assert ours == pytest.approx(_fastmri_ssim_reference(gt, pred), abs=1e-9)
    assert abs(ours - per_slice_max) > 1e-3


def test_fastmri_2d_image_is_one_slice(camera: np.ndarray) -> None:
    pred = _noisy(camera, 0.05)
    assert ssim(camera, pred, "fastmri") == pytest.approx(
        structural_similarity(camera, pred, data_range=camera.max()), abs=1e-9)
    volume_ssim = ssim(camera[None], pred[None], "fastmri")
    assert image_metrics(camera, pred, "fastmri")["ssim"] == volume_ssim


def test_fastmri_float32_tensor_input() -> None:
    rng = np.random.default_rng(3)
    gt = rng.random((3, 24, 24)).astype(np.float32)
    pred = (gt + rng.normal(0, 0.1, gt.shape)).astype(np.float32)
    ref = _fastmri_ssim_reference(gt.astype(np.float64), pred.astype(np.float64))
    got = ssim(torch.from_numpy(gt), torch.from_numpy(pred), "fastmri")
    assert got == pytest.approx(ref, abs=1e-9)


# ---------------------------------------------------------------- NMSE and image_metrics

def test_nmse_hand_values() -> None:
    gt = np.array([3.0, 4.0])  # ||gt||^2 = 25
    pred = np.array([3.0, 2.0])  # ||gt - pred||^2 = 4
    assert nmse(gt, pred) == pytest.approx(4.0 / 25.0, abs=1e-15)
    assert nmse(gt, gt) == 0.0
    assert nmse([[1.0, -1.0]], [[0.0, 0.0]]) == pytest.approx(1.0)


def test_image_metrics_keys_and_consistency(astronaut: np.ndarray) -> None:
    pred = _noisy(astronaut, 0.05)
    out = image_metrics(astronaut, pred, "sr", scale=4)
    assert set(out) == {"psnr", "ssim", "nmse"}
    assert out["psnr"] == psnr(astronaut, pred, "sr", scale=4)
    assert out["ssim"] == ssim(astronaut, pred, "sr", scale=4)
    assert out["nmse"] == nmse(astronaut, pred)


def test_conventions_are_json_serialisable() -> None:
    import json

    assert {"sr", "fastmri"} <= set(CONVENTIONS)
    for name in ("sr", "fastmri"):
        assert {"psnr", "ssim", "nmse"} <= set(CONVENTIONS[name])
    json.loads(json.dumps(CONVENTIONS))
