"""StyleGAN2 generator and discriminator: shapes, mapping/truncation, skip outputs, mbstd."""

from __future__ import annotations

import pytest
import torch

from recon_stylegan2.networks import CONFIGS, Discriminator, Generator, MappingNetwork

TINY = dict(z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=32)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one intra-op thread is faster and immune to other jobs on the 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_g(resolution=32, num_channels=3, **kw):
    return Generator(resolution=resolution, num_channels=num_channels, **{**TINY, **kw})


def tiny_d(resolution=32, num_channels=3, **kw):
    return Discriminator(resolution=resolution, num_channels=num_channels, channel_base=512, channel_max=32, **kw)


@pytest.mark.parametrize("channels", [1, 3])
def test_generator_forward_backward_at_32(channels):
    torch.manual_seed(0)
    G = tiny_g(num_channels=channels)
    z = torch.randn(4, G.z_dim)
    img, ws = G(z, return_ws=True)
    assert img.shape == (4, channels, 32, 32) and img.dtype == torch.float32
    assert ws.shape == (4, G.num_ws, G.w_dim) and G.num_ws == 2 * 5 - 2
    assert torch.isfinite(img).all()
    img.square().mean().backward()
    missing = [n for n, p in G.named_parameters() if p.grad is None]
    # noise strengths start at zero but still get gradients; every parameter is used
    assert not missing, missing
    assert G.mapping.layers[0].weight.grad.abs().sum() > 0
    assert G.synthesis.blocks[0].const.grad.abs().sum() > 0


def test_mapping_output_shape_and_w_avg_tracking():
    torch.manual_seed(0)
    m = MappingNetwork(z_dim=16, w_dim=24, num_ws=6, num_layers=3)
    ws = m(torch.randn(5, 16))
    assert ws.shape == (5, 6, 24)
    assert torch.equal(ws[:, 0], ws[:, 5])  # one w broadcast to every layer
    assert m.w_avg.abs().sum() > 0  # training mode updates the EMA
    m.eval()
    before = m.w_avg.clone()
    m(torch.randn(5, 16))
    assert torch.equal(m.w_avg, before)  # eval mode does not


def test_mapping_normalises_z():
    torch.manual_seed(0)
    m = MappingNetwork(z_dim=16, w_dim=16, num_ws=2).eval()
    z = torch.randn(3, 16)
    torch.testing.assert_close(m(z), m(z * 7.5))  # pixel norm makes the scale of z irrelevant


def test_truncation_psi_zero_gives_w_avg():
    torch.manual_seed(0)
    G = tiny_g()
    for _ in range(3):
        G(torch.randn(8, G.z_dim))  # train mode: w_avg moves away from 0
    G.eval()
    ws = G.mapping(torch.randn(4, G.z_dim), truncation_psi=0.0)
    torch.testing.assert_close(ws, G.mapping.w_avg.expand(4, G.num_ws, G.w_dim))
    # psi = 0.5 halves the distance to w_avg; cutoff limits it to the first layers
    z = torch.randn(4, G.z_dim)
    full, half = G.mapping(z), G.mapping(z, truncation_psi=0.5)
    torch.testing.assert_close(half - G.mapping.w_avg, 0.5 * (full - G.mapping.w_avg))
    cut = G.mapping(z, truncation_psi=0.0, truncation_cutoff=2)
    torch.testing.assert_close(cut[:, 2:], full[:, 2:])
    torch.testing.assert_close(cut[:, :2], G.mapping.w_avg.expand(4, 2, G.w_dim))
    # psi=0 through the full generator with const noise: every sample is the same image
    img = G(torch.randn(3, G.z_dim), truncation_psi=0.0, noise_mode="const")
    torch.testing.assert_close(img[0], img[1])


@pytest.mark.parametrize("resolution", [16, 64])
def test_skip_architecture_outputs_the_final_resolution(resolution):
    torch.manual_seed(0)
    G = tiny_g(resolution=resolution, num_channels=1)
    assert [b.resolution for b in G.synthesis.blocks] == [2**i for i in range(2, resolution.bit_length())]
    assert all(hasattr(b, "torgb") for b in G.synthesis.blocks)  # one toRGB per resolution
    img = G(torch.randn(2, G.z_dim))
    assert img.shape == (2, 1, resolution, resolution)


def test_skip_sum_includes_every_resolution():
    """Zeroing the last toRGB leaves the upsampled low-resolution image, not zeros."""
    torch.manual_seed(0)
    G = tiny_g().eval()
    last = G.synthesis.blocks[-1].torgb
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
    img = G(torch.randn(2, G.z_dim), noise_mode="const")
    assert img.abs().mean() > 1e-3


def test_noise_modes():
    torch.manual_seed(0)
    G = tiny_g().eval()
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.5)  # make the noise visible
    z = torch.randn(2, G.z_dim)
    torch.testing.assert_close(G(z, noise_mode="const"), G(z, noise_mode="const"))
    torch.testing.assert_close(G(z, noise_mode="none"), G(z, noise_mode="none"))
    assert not torch.allclose(G(z, noise_mode="random"), G(z, noise_mode="random"))
    assert not torch.allclose(G(z, noise_mode="none"), G(z, noise_mode="const"))
    with pytest.raises(ValueError):
        G(z, noise_mode="sometimes")
    strengths = [p for n, p in G.named_parameters() if n.endswith("noise_strength")]
    assert all(p.ndim == 1 and p.numel() > 1 for p in strengths)  # per-channel strengths


def test_style_mixing_only_in_training_mode():
    torch.manual_seed(0)
    G = tiny_g(style_mixing_prob=1.0)
    z = torch.randn(6, G.z_dim)
    _, ws = G(z, return_ws=True)
    plain = G.mapping(z, update_w_avg=False)
    assert torch.equal(ws[:, 0], plain[:, 0])  # the first layer always keeps the sample's own w
    assert not torch.allclose(ws[:, -1], plain[:, -1])  # the last layer always mixed with prob 1
    G.eval()
    _, ws_eval = G(z, return_ws=True)
    torch.testing.assert_close(ws_eval, G.mapping(z))
    G0 = tiny_g(style_mixing_prob=0.0)
    _, ws0 = G0(z, return_ws=True)
    assert torch.equal(ws0[:, 0], ws0[:, -1])


def test_generator_accepts_ws_and_fused_switch():
    torch.manual_seed(0)
    G = tiny_g().eval()
    ws = G.mapping(torch.randn(2, G.z_dim))
    a = G(ws=ws, noise_mode="const")
    G.fused_modconv = False
    b = G(ws=ws, noise_mode="const")
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("channels", [1, 3])
def test_discriminator_shapes_and_backward(channels):
    torch.manual_seed(0)
    D = tiny_d(num_channels=channels)
    x = torch.randn(8, channels, 32, 32, requires_grad=True)
    logits = D(x)
    assert logits.shape == (8, 1) and logits.dtype == torch.float32
    logits.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in D.parameters())
    with pytest.raises(ValueError):
        D(torch.randn(2, channels, 16, 16))


def test_discriminator_uses_minibatch_std():
    torch.manual_seed(0)
    D = tiny_d(num_channels=1).eval()
    assert D.mbstd is not None and D.mbstd.group_size == 4
    assert D.conv.in_channels == 32 + 1
    x = torch.randn(4, 1, 32, 32)
    alone = D(x[:1].repeat(4, 1, 1, 1))[0]
    mixed = D(x)[0]
    assert not torch.allclose(alone, mixed)  # sample 0's logit depends on its group
    for n in (1, 3, 5):
        assert D(torch.randn(n, 1, 32, 32)).shape == (n, 1)


def test_conditional_networks():
    torch.manual_seed(0)
    G = tiny_g(c_dim=5)
    D = tiny_d(c_dim=5)
    c = torch.nn.functional.one_hot(torch.tensor([0, 3]), 5).float()
    img = G(torch.randn(2, G.z_dim), c)
    assert D(img, c).shape == (2, 1)
    with pytest.raises(ValueError):
        G(torch.randn(2, G.z_dim))  # label required


def test_configs_and_validation():
    assert CONFIGS["paper"]["channel_base"] == 32768 and CONFIGS["paper"]["mapping_layers"] == 8
    with pytest.raises(ValueError):
        Generator(resolution=48)
    with pytest.raises(ValueError):
        Discriminator(resolution=2048)
    G = Generator(resolution=1024, num_channels=1, **CONFIGS["cpu"])
    assert G.num_ws == 18
