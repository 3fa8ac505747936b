import pytest
import torch

from recon.errors import UsageError
from recon.physics import FourierParams, fft2c, simulate_coil_maps, to_channels
from recon_kspace.consistency import HardDataConsistency, SoftDataConsistency, as_coil_kspace, make_dc
from recon_kspace.masks import make_mask
from recon_kspace.simulate import simulate_sample

H, W = 32, 36


def _batch(coils=0, kind="random", seed=0, n=3):
    g = torch.Generator().manual_seed(seed)
    mag = torch.rand(n, H, W, generator=g)
    maps = simulate_coil_maps(coils, (H, W), seed=seed) if coils else None
    mask = make_mask(kind, (H, W), 4, seed=seed)
    s = simulate_sample(mag, mask, maps=maps, seed=seed)
    pred = torch.complex(torch.randn(n, H, W, generator=g), torch.randn(n, H, W, generator=g))
    return s, pred, mask.reshape(1, 1, *mask.shape)


@pytest.mark.parametrize("kind", ["random", "equispaced", "poisson"])
def test_hard_dc_single_coil_output_kspace_equals_measurement(kind):
    s, pred, mask = _batch(kind=kind)
    out = HardDataConsistency()(pred, s.masked_kspace, FourierParams(mask))
    k_out = fft2c(out)
    sampled = mask[:, 0].expand(len(pred), H, W) > 0
    torch.testing.assert_close(k_out[sampled], s.masked_kspace[:, 0][sampled], rtol=1e-5, atol=1e-5)
    # unsampled locations keep the prediction
    torch.testing.assert_close(k_out[~sampled], fft2c(pred)[~sampled], rtol=1e-5, atol=1e-5)


def test_hard_dc_accepts_all_single_coil_kspace_layouts():
    s, pred, mask = _batch()
    dc = HardDataConsistency()
    a = dc(pred, s.masked_kspace, FourierParams(mask))  # complex (N, 1, H, W)
    b = dc(pred, s.masked_kspace[:, 0], FourierParams(mask))  # complex (N, H, W)
    c = dc(to_channels(pred, 1), to_channels(s.masked_kspace[:, 0], 1), FourierParams(mask))  # real (N, 2, H, W) both
    d = dc(pred, s.masked_kspace, FourierParams(mask[0, 0]))  # (H|1, W) mask
    for other in (b, c, d):
        torch.testing.assert_close(a, other)


def test_hard_dc_multicoil_coil_kspace_equals_measurement():
    s, pred, mask = _batch(coils=4)
    maps = s.maps.unsqueeze(0)
    out, k_out = HardDataConsistency()(pred, s.masked_kspace, FourierParams(mask, maps), return_kspace=True)
    assert out.shape == (3, H, W) and k_out.shape == (3, 4, H, W)
    sampled = (mask > 0).expand_as(k_out)
    torch.testing.assert_close(k_out[sampled], s.masked_kspace[sampled], rtol=1e-5, atol=1e-5)
    # a perfect prediction passes through unchanged; a fully sampled mask returns the truth
    perfect = HardDataConsistency()(s.image, s.masked_kspace, FourierParams(mask, maps))
    torch.testing.assert_close(perfect, s.image, rtol=1e-4, atol=1e-5)
    full = torch.ones(1, 1, 1, W)
    recon = HardDataConsistency()(pred, s.kspace, FourierParams(full, maps))
    torch.testing.assert_close(recon, s.image, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("coils", [0, 4])
def test_soft_dc_large_lambda_equals_hard(coils):
    s, pred, mask = _batch(coils=coils)
    maps = None if s.maps is None else s.maps.unsqueeze(0)
    soft = SoftDataConsistency(init_lambda=10.0)
    with torch.no_grad():
        soft.rho.fill_(1e8)  # softplus(1e8) = 1e8 -> w = lam / (1 + lam) == 1 in float32
    assert soft.weight.item() == 1.0
    torch.testing.assert_close(
        soft(pred, s.masked_kspace, FourierParams(mask, maps)),
        HardDataConsistency()(pred, s.masked_kspace, FourierParams(mask, maps)),
    )


def test_soft_dc_closed_form_and_gradient():
    s, pred, mask = _batch()
    soft = SoftDataConsistency(init_lambda=3.0)
    assert soft.lam.item() == pytest.approx(3.0, rel=1e-5)
    out = soft(pred, s.masked_kspace, FourierParams(mask))
    k_out, k_pred, k_meas = fft2c(out), fft2c(pred), s.masked_kspace[:, 0]
    sampled = mask[:, 0].expand(len(pred), H, W) > 0
    expected = (k_pred + 3.0 * k_meas) / 4.0
    torch.testing.assert_close(k_out[sampled], expected[sampled], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(k_out[~sampled], k_pred[~sampled], rtol=1e-5, atol=1e-5)
    out.abs().sum().backward()
    assert soft.rho.grad is not None and torch.isfinite(soft.rho.grad)
    # lambda near 0 leaves the prediction alone
    weak = SoftDataConsistency(init_lambda=1e-6)
    torch.testing.assert_close(weak(pred, s.masked_kspace, FourierParams(mask)), pred, rtol=1e-4, atol=1e-4)


def test_bad_inputs():
    s, pred, mask = _batch(coils=3)
    dc = make_dc("hard")
    with pytest.raises(UsageError, match="needs coil maps"):
        dc(pred, s.masked_kspace, FourierParams(mask))
    with pytest.raises(UsageError, match="samples nothing"):
        dc(pred, s.masked_kspace, FourierParams(torch.zeros_like(mask), s.maps[None]))
    with pytest.raises(UsageError, match="odd/even"):
        dc(pred, s.masked_kspace, FourierParams(torch.ones(1, 1, 1, W + 1), s.maps[None]))
    with pytest.raises(UsageError, match="real k-space"):
        as_coil_kspace(torch.ones(2, 3, H, W))
    with pytest.raises(UsageError, match="complex k-space"):
        as_coil_kspace(torch.ones(H, W, dtype=torch.complex64))
    with pytest.raises(UsageError, match="unknown data-consistency"):
        make_dc("medium")
    with pytest.raises(UsageError, match="init_lambda"):
        SoftDataConsistency(init_lambda=0)
