import pytest
import torch

from recon.errors import UsageError
from recon.physics import fft2c, simulate_coil_maps, to_channels, to_complex
from recon_kspace.masks import make_mask
from recon_kspace.networks import CascadeNet, MonaiVarNet, build_generator, magnitude
from recon_kspace.simulate import simulate_sample

H, W = 32, 32


def _data(coils=0, n=2, seed=0, kind="equispaced"):
    g = torch.Generator().manual_seed(seed)
    maps = simulate_coil_maps(coils, (H, W), seed=seed) if coils else None
    mask = make_mask(kind, (H, W), 4, seed=seed)
    s = simulate_sample(torch.rand(n, H, W, generator=g), mask, maps=maps, seed=seed)
    return s, mask.reshape(1, 1, *mask.shape).float()


@pytest.mark.parametrize("dc", ["hard", "soft"])
def test_cascade_forward_backward_and_dc(dc):
    torch.manual_seed(0)
    s, mask = _data()
    net = CascadeNet(cascades=2, chans=4, depth=2, dc=dc)
    zf = to_channels(s.zero_filled, dim=1)
    out = net(zf, s.masked_kspace, mask)
    assert out.shape == (2, 2, H, W) and out.dtype == torch.float32
    loss = (out - to_channels(s.image, dim=1)).abs().mean()
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g_ is not None and torch.isfinite(g_).all() for g_ in grads)
    assert any(g_.abs().sum() > 0 for g_ in grads)
    if dc == "hard":  # the output's k-space equals the measurement at the sampled columns
        k_out = fft2c(to_complex(out.detach(), dim=1))
        cols = mask[0, 0, 0] > 0
        torch.testing.assert_close(k_out[..., cols], s.masked_kspace[:, 0][..., cols], rtol=1e-4, atol=1e-4)
    assert magnitude(out).shape == (2, 1, H, W)


def test_cascade_multicoil_odd_size_and_2d_mask():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    h, w = 30, 27  # not divisible by 2**depth: the U-Nets pad and crop
    maps = simulate_coil_maps(3, (h, w), seed=1)
    mask = make_mask("poisson", (h, w), 4, seed=1)
    s = simulate_sample(torch.rand(2, h, w, generator=g), mask, maps=maps, seed=1)
    net = CascadeNet(cascades=2, chans=4, depth=2)
    out = net(to_channels(s.zero_filled, 1), s.masked_kspace, mask[None, None], maps[None])
    assert out.shape == (2, 2, h, w)
    out.square().mean().backward()


def test_cascade_is_scale_equivariant():
    torch.manual_seed(0)
    s, mask = _data()
    net = CascadeNet(cascades=2, chans=4).eval()
    zf = to_channels(s.zero_filled, 1)
    a = net(zf, s.masked_kspace, mask)
    b = net(zf * 1e-5, s.masked_kspace * 1e-5, mask)
    torch.testing.assert_close(b * 1e5, a, rtol=1e-3, atol=1e-4)


def test_shared_weights_and_factory():
    net = CascadeNet(cascades=3, chans=4, share_weights=True)
    single = CascadeNet(cascades=1, chans=4)
    n_unet = sum(p.numel() for p in single.blocks.parameters())
    assert sum(p.numel() for p in net.blocks.parameters()) == n_unet
    assert isinstance(build_generator("cascade", cascades=1, chans=4), CascadeNet)
    with pytest.raises(UsageError, match="unknown k-space generator"):
        build_generator("gan")


def test_cascade_bad_inputs():
    s, mask = _data()
    net = CascadeNet(cascades=1, chans=4)
    zf = to_channels(s.zero_filled, 1)
    with pytest.raises(UsageError, match="samples nothing"):
        net(zf, s.masked_kspace, torch.zeros_like(mask))
    with pytest.raises(UsageError, match="zero_filled"):
        net(zf[:, :1], s.masked_kspace, mask)
    with pytest.raises(UsageError, match="odd/even"):
        net(zf, s.masked_kspace, torch.ones(1, 1, 1, W - 1))


def test_monai_varnet_wrapper_multicoil():
    torch.manual_seed(0)
    s, mask = _data(coils=4)
    net = MonaiVarNet(cascades=2, features=(4, 4, 8, 8, 16, 4), sens_features=(2, 2, 4, 4, 8, 2))
    zf = to_channels(s.zero_filled, 1)
    out = net(zf, s.masked_kspace, mask)  # maps estimated by MONAI's CoilSensitivityModel
    assert out.shape == (2, 2, H, W) and torch.isfinite(out).all()
    out.abs().mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    out_known = net(zf, s.masked_kspace, mask, s.maps[None])  # given maps
    assert out_known.shape == (2, 2, H, W)
    full = net(zf, s.kspace, torch.ones(1, 1, 1, W))  # fully sampled: MONAI's ACS walk is bounded
    assert torch.isfinite(full).all()
    with pytest.raises(UsageError, match="Cartesian"):
        net(zf, s.masked_kspace, make_mask("poisson", (H, W), 4, seed=0)[None, None])


def test_monai_varnet_single_coil_uses_unit_maps_with_any_mask():
    """Single-coil k-space has sensitivity 1: no estimation, so 2D (Poisson-disc) masks work."""
    torch.manual_seed(0)
    s, _ = _data(kind="poisson")
    mask = make_mask("poisson", (H, W), 4, seed=0)[None, None]
    net = MonaiVarNet(cascades=1, features=(4, 4, 8, 8, 16, 4), sens_features=(2, 2, 4, 4, 8, 2)).eval()
    zf = to_channels(s.zero_filled, 1)
    with torch.no_grad():
        out = net(zf, s.masked_kspace, mask)
        explicit = net(zf, s.masked_kspace, mask, torch.ones(1, 1, H, W, dtype=torch.complex64))
    assert out.shape == (2, 2, H, W)
    torch.testing.assert_close(out, explicit)
