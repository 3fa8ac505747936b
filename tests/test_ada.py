"""ADA: the augmentation pipeline and the adaptive p controller."""

from __future__ import annotations

import pytest
import torch

from recon.augment import PRESETS, AdaptiveAugment, AugmentPipe


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one intra-op thread is faster and immune to other jobs on the 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def images(n=8, c=3, size=16, lo=-1.0, hi=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, size, size, generator=g) * (hi - lo) + lo


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("value_range", [(-1.0, 1.0), (0.0, 1.0)])
def test_p_zero_is_the_identity(channels, value_range):
    x = images(c=channels, lo=value_range[0], hi=value_range[1])
    pipe = AugmentPipe.from_preset("bgc", value_range=value_range)
    assert torch.equal(pipe(x, 0.0), x)
    ada = AdaptiveAugment(p=0.0, value_range=value_range)
    assert torch.equal(ada(x), x)


@pytest.mark.parametrize("channels", [1, 3])
def test_augmentation_changes_images_keeps_shape_and_dtype(channels):
    torch.manual_seed(0)
    x = images(n=16, c=channels)
    y = AugmentPipe.from_preset("bgc")(x, 0.8)
    assert y.shape == x.shape and y.dtype == x.dtype
    changed = (y - x).flatten(1).abs().amax(1) > 0
    assert 0 < changed.sum() <= 16
    assert torch.isfinite(y).all()
    y16 = AugmentPipe.from_preset("bgc")(x.to(torch.bfloat16), 0.5)
    assert y16.dtype == torch.bfloat16


@pytest.mark.parametrize("channels", [1, 3])
def test_gradients_flow_through_the_augmentation(channels):
    torch.manual_seed(0)
    x = images(n=8, c=channels).requires_grad_(True)
    ada = AdaptiveAugment(p=0.8)
    out = ada(x)
    out.square().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert (x.grad.flatten(1).abs().sum(1) > 0).all()  # every sample, augmented or not


def test_gradients_reach_a_generator_through_ada():
    torch.manual_seed(0)
    gen = torch.nn.Conv2d(3, 3, 3, padding=1)
    ada = AdaptiveAugment(p=0.8)
    ada(torch.tanh(gen(images()))).mean().backward()
    assert gen.weight.grad is not None and gen.weight.grad.abs().sum() > 0


def test_deterministic_given_a_torch_seed():
    x = images()
    ada = AdaptiveAugment(p=0.7)
    torch.manual_seed(123)
    a = ada(x)
    torch.manual_seed(123)
    b = ada(x)
    torch.manual_seed(124)
    c = ada(x)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_pixel_blitting_is_exact():
    """Flips / quarter turns / integer shifts only move pixels (no interpolation)."""
    torch.manual_seed(0)
    x = images(n=32, c=1)
    flips = AugmentPipe.from_preset("b", rotate90=0.0, xint=0.0)(x, 1.0)
    for i in range(32):
        assert torch.equal(flips[i], x[i]) or torch.allclose(flips[i], x[i].flip(-1), atol=1e-5)
    rots = AugmentPipe.from_preset("b", xflip=0.0, xint=0.0)(x, 1.0)
    for i in range(32):
        assert any(torch.allclose(rots[i], torch.rot90(x[i], k, dims=(-2, -1)), atol=1e-5) for k in range(4))
    shifted = AugmentPipe.from_preset("b", xflip=0.0, rotate90=0.0)(x, 1.0)
    # every output value is one of the input values (reflection padding, integer offsets)
    for i in range(32):
        d = (shifted[i].reshape(-1, 1) - x[i].reshape(1, -1)).abs().amin(dim=1)
        assert d.max() < 1e-5


def test_colour_ops_respect_channel_count_and_range():
    torch.manual_seed(0)
    gray = images(n=64, c=1, lo=0.0, hi=1.0)
    out = AugmentPipe.from_preset("c", value_range=(0.0, 1.0))(gray, 1.0)
    # for grayscale only brightness/contrast: an affine map of each image's intensities
    for i in range(8):
        a, b = torch.linalg.lstsq(torch.stack([gray[i].flatten(), torch.ones(256)], 1), out[i].flatten()).solution
        torch.testing.assert_close(gray[i] * a + b, out[i], rtol=1e-4, atol=1e-4)
    rgb = images(n=64, c=3)
    sat = AugmentPipe.from_preset("c", brightness=0.0, contrast=0.0, lumaflip=0.0, hue=0.0)(rgb, 1.0)
    torch.testing.assert_close(sat.mean(1), rgb.mean(1), rtol=1e-4, atol=1e-5)  # saturation keeps luma
    flip = AugmentPipe.from_preset("c", brightness=0.0, contrast=0.0, hue=0.0, saturation=0.0)(rgb, 1.0)
    flipped = ~torch.isclose(flip, rgb).flatten(1).all(1)
    torch.testing.assert_close(flip[flipped].mean(1), -rgb[flipped].mean(1), rtol=1e-4, atol=1e-5)


def test_presets_and_validation():
    assert set(PRESETS) >= {"b", "g", "c", "bg", "bgc"}
    assert AugmentPipe.from_preset("g").mult["xflip"] == 0.0
    with pytest.raises(ValueError):
        AugmentPipe.from_preset("xyz")
    with pytest.raises(ValueError):
        AugmentPipe(value_range=(1.0, 0.0))
    with pytest.raises(ValueError):
        AdaptiveAugment(p=0.9)  # above the default p_max
    with pytest.raises(ValueError):
        AdaptiveAugment(p_max=1.5)
    with pytest.warns(UserWarning, match="leak"):
        AdaptiveAugment(p_max=0.95)
    non_square = AugmentPipe.from_preset("bgc")(torch.randn(4, 3, 8, 12), 0.9)
    assert non_square.shape == (4, 3, 8, 12)


# --- the p controller ---------------------------------------------------------------------


def test_p_rises_when_d_is_overconfident_and_falls_otherwise():
    ada = AdaptiveAugment(p=0.0, target=0.6, interval=4, speed_kimg=1.0)  # 1k images for 0 -> 1
    for _ in range(3):
        ada.update(torch.ones(16, 1))
    assert ada.p.item() == 0.0  # no adjustment before `interval` updates
    ada.update(torch.ones(16, 1))
    assert ada.p.item() == pytest.approx(64 / 1000)  # batch * interval / (speed_kimg * 1000)
    assert ada.rt.item() == pytest.approx(1.0)
    for _ in range(4):
        ada.update(torch.ones(16, 1))
    assert ada.p.item() == pytest.approx(128 / 1000)
    for _ in range(4):
        ada.update(-torch.ones(16, 1))  # r_t = -1 < target: p falls
    assert ada.p.item() == pytest.approx(64 / 1000)
    # r_t = 0.5 (below target 0.6): falls; never below 0
    for _ in range(40):
        ada.update(torch.tensor([1.0, 1.0, 1.0, -1.0]))
    assert ada.rt.item() == pytest.approx(0.5)
    assert ada.p.item() == 0.0


def test_p_never_exceeds_p_max():
    ada = AdaptiveAugment(p=0.0, target=0.6, interval=1, speed_kimg=0.01)  # huge steps
    for _ in range(50):
        ada.update(torch.full((32,), 5.0))
        assert bool((ada.p >= 0) & (ada.p <= 0.85))  # compared in p's own dtype (fp32)
    assert ada.p.item() == pytest.approx(0.85)
    low = AdaptiveAugment(p=0.0, target=0.6, interval=1, speed_kimg=0.01, p_max=0.3)
    for _ in range(10):
        low.update(torch.ones(8))
    assert low.p.item() == pytest.approx(0.3)


def test_fixed_p_mode():
    ada = AdaptiveAugment(p=0.4, target=None, interval=2)
    assert not ada.adaptive
    for _ in range(10):
        ada.update(torch.ones(8))
    assert ada.p.item() == pytest.approx(0.4)
    assert ada.stats() == {"ada_p": pytest.approx(0.4), "ada_rt": pytest.approx(1.0)}


def test_state_dict_round_trip_resumes_exactly():
    a = AdaptiveAugment(p=0.1, target=0.6, interval=4, speed_kimg=1.0)
    for _ in range(6):  # one adjustment, then 2 calls into the next window
        a.update(torch.tensor([1.0, 1.0, -1.0, 1.0]))
    state = a.state_dict()
    assert {"p", "sign_sum", "sign_count", "rt", "_extra_state"} <= set(state)
    b = AdaptiveAugment(p=0.0, target=0.6, interval=4, speed_kimg=1.0)
    b.load_state_dict(state)
    for m in (a, b):  # both finish the window identically
        for _ in range(2):
            m.update(torch.ones(4))
    assert a.p.item() == b.p.item() and a.rt.item() == b.rt.item()
    for key, value in a.state_dict().items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, b.state_dict()[key]) or (value.isnan() & b.state_dict()[key].isnan()).all()
        else:
            assert value == b.state_dict()[key]
    # a checkpoint from a run with a larger p_max is clamped to this run's p_max
    c = AdaptiveAugment(p=0.0, p_max=0.2)
    state["p"] = torch.tensor(0.8)
    c.load_state_dict(state)
    assert c.p.item() == pytest.approx(0.2)


def test_update_does_not_change_p_in_forward_and_p_follows_device_dtype():
    ada = AdaptiveAugment(p=0.3)
    x = images()
    ada(x)
    assert ada.p.item() == pytest.approx(0.3)
    ada.update(torch.randn(8, 1, dtype=torch.bfloat16))  # any logits dtype
    assert ada.p.dtype == torch.float32
