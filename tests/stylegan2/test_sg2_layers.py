"""StyleGAN2 layers: weight demodulation, fused/non-fused equivalence, resampling, mbstd."""

from __future__ import annotations

import math

import pytest
import torch

from recon_stylegan2.layers import (
    EqualConv2d,
    EqualLinear,
    MinibatchStd,
    downsample2x,
    modulated_conv2d,
    upsample2x,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one intra-op thread is faster and immune to other jobs on the 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("style_scale", [0.01, 1.0, 100.0])
def test_demodulation_gives_unit_variance_whatever_the_style_scale(style_scale):
    g = torch.Generator().manual_seed(0)
    n, cin, cout, r = 8, 64, 32, 32
    x = torch.randn(n, cin, r, r, generator=g)
    weight = torch.randn(cout, cin, 3, 3, generator=g) / math.sqrt(cin * 9)
    styles = (torch.rand(n, cin, generator=g) + 0.5) * style_scale
    y = modulated_conv2d(x, weight, styles, demodulate=True)
    inner = y[:, :, 1:-1, 1:-1]  # zero padding lowers the variance on the border only
    assert inner.std().item() == pytest.approx(1.0, abs=0.05)
    # ... and per output channel, not only on average.
    per_channel = inner.transpose(0, 1).reshape(cout, -1).std(dim=1)
    assert per_channel.min().item() > 0.85 and per_channel.max().item() < 1.15


def test_without_demodulation_the_output_scales_with_the_styles():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 16, 16, 16, generator=g)
    weight = torch.randn(8, 16, 3, 3, generator=g) / math.sqrt(16 * 9)
    styles = torch.ones(4, 16)
    y1 = modulated_conv2d(x, weight, styles, demodulate=False)
    y10 = modulated_conv2d(x, weight, styles * 10, demodulate=False)
    torch.testing.assert_close(y10, y1 * 10, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("demodulate", [True, False])
def test_fused_and_unfused_modulated_conv_agree(demodulate):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, 6, 9, 9, generator=g)
    weight = torch.randn(5, 6, 3, 3, generator=g)
    styles = torch.randn(3, 6, generator=g)
    noise = torch.randn(3, 1, 9, 9, generator=g)
    a = modulated_conv2d(x, weight, styles, demodulate=demodulate, fused=True, noise=noise)
    b = modulated_conv2d(x, weight, styles, demodulate=demodulate, fused=False, noise=noise)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fused", [True, False])
def test_modulated_conv_gradcheck(fused):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 3, 5, 5, generator=g, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, 3, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    styles = (torch.rand(2, 3, generator=g, dtype=torch.float64) + 0.5).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b, c: modulated_conv2d(a, b, c, fused=fused), (x, weight, styles))


def test_fused_modulated_conv_matches_a_per_sample_loop():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 4, 7, 7, generator=g)
    weight = torch.randn(3, 4, 3, 3, generator=g)
    styles = torch.randn(2, 4, generator=g)
    y = modulated_conv2d(x, weight, styles, demodulate=True)
    for i in range(2):
        w = weight * styles[i].reshape(1, 4, 1, 1)
        w = w / w.square().sum(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
        ref = torch.nn.functional.conv2d(x[i : i + 1], w, padding=1)
        torch.testing.assert_close(y[i : i + 1], ref, rtol=1e-4, atol=1e-4)


def test_equalized_lr_layers_keep_unit_scale():
    torch.manual_seed(0)
    fc = EqualLinear(256, 256)
    x = torch.randn(512, 256)
    assert fc(x).std().item() == pytest.approx(1.0, abs=0.1)
    # lr multiplier: stored weights are N(0, 1/lr^2) but the effective weight is unchanged.
    slow = EqualLinear(256, 256, lr_multiplier=0.01)
    assert slow.weight.std().item() == pytest.approx(100.0, rel=0.1)
    assert slow(x).std().item() == pytest.approx(1.0, abs=0.1)
    conv = EqualConv2d(64, 64, 3, activation="lrelu")
    assert conv(torch.randn(8, 64, 16, 16)).square().mean().sqrt().item() == pytest.approx(1.0, abs=0.2)


def test_resampling_shapes_and_dc_gain():
    x = torch.ones(2, 3, 16, 16)
    assert upsample2x(x).shape == (2, 3, 32, 32)
    torch.testing.assert_close(upsample2x(x), torch.ones(2, 3, 32, 32))
    d = downsample2x(x)
    assert d.shape == (2, 3, 8, 8)
    torch.testing.assert_close(d[:, :, 1:-1, 1:-1], torch.ones(2, 3, 6, 6))  # interior keeps DC
    conv = EqualConv2d(3, 5, 3, down=2)
    assert conv(torch.randn(2, 3, 16, 16)).shape == (2, 5, 8, 8)
    skip = EqualConv2d(3, 5, 1, bias=False, down=2)
    assert skip(torch.randn(2, 3, 16, 16)).shape == (2, 5, 8, 8)


def test_minibatch_std_appends_group_statistics():
    torch.manual_seed(0)
    x = torch.randn(8, 6, 4, 4)
    y = MinibatchStd(group_size=4)(x)
    assert y.shape == (8, 7, 4, 4)
    torch.testing.assert_close(y[:, :6], x)
    stat = y[:, 6]
    assert torch.all(stat == stat[:, :1, :1])  # constant over pixels
    # Sample i belongs to group i % (N / G); groups are {0, 2, 4, 6} and {1, 3, 5, 7}.
    for members in ([0, 2, 4, 6], [1, 3, 5, 7]):
        expected = (x[members].var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
        for i in members:
            assert stat[i, 0, 0].item() == pytest.approx(expected.item(), rel=1e-5)
    # Identical samples -> zero stddev (up to the epsilon).
    same = MinibatchStd(4)(torch.ones(4, 2, 4, 4))[:, 2]
    assert same.max().item() < 1e-3


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_minibatch_std_handles_batches_not_divisible_by_the_group(n):
    y = MinibatchStd(group_size=4)(torch.randn(n, 3, 4, 4))
    assert y.shape == (n, 4, 4, 4)
    assert torch.isfinite(y).all()
