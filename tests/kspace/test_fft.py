import numpy as np
import pytest
import torch

from recon.errors import UsageError
from recon_kspace.fft import complex_abs, fft2c, ifft2c, rss, to_channels, to_complex


def _rand(*shape, seed=0, dtype=torch.complex128):
    g = torch.Generator().manual_seed(seed)
    return torch.complex(torch.randn(*shape, generator=g), torch.randn(*shape, generator=g)).to(dtype)


@pytest.mark.parametrize("shape", [(8, 8), (3, 7, 10), (2, 4, 9, 6)])
def test_round_trip_is_identity(shape):
    x = _rand(*shape)
    torch.testing.assert_close(ifft2c(fft2c(x)), x, rtol=0, atol=1e-12)
    torch.testing.assert_close(fft2c(ifft2c(x)), x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(16, 16), (15, 12), (2, 13, 7)])
def test_parseval_orthonormal(shape):
    x = _rand(*shape, seed=1)
    k = fft2c(x)
    assert torch.allclose(k.abs().square().sum(), x.abs().square().sum(), rtol=1e-12)
    # inner products are preserved too (unitary), not only norms
    y = _rand(*shape, seed=2)
    assert torch.allclose((fft2c(y).conj() * k).sum(), (y.conj() * x).sum(), rtol=1e-10)


def test_matches_numpy_centred_convention_and_dc_position():
    x = _rand(9, 12, seed=3)
    ref = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x.numpy()), norm="ortho"))
    np.testing.assert_allclose(fft2c(x).numpy(), ref, atol=1e-12)
    # a constant image has all its energy at the centre (H // 2, W // 2)
    k = fft2c(torch.ones(9, 12, dtype=torch.complex128))
    assert torch.argmax(k.abs()).item() == (9 // 2) * 12 + 12 // 2
    assert k.abs()[9 // 2, 12 // 2] == pytest.approx(np.sqrt(9 * 12))


@pytest.mark.parametrize("shape", [(1, 8, 8), (2, 7, 10)])
def test_matches_monai_fftn_centered(shape):
    from monai.networks.blocks.fft_utils_t import fftn_centered_t, ifftn_centered_t

    x = _rand(*shape, seed=4, dtype=torch.complex64)
    ours = torch.view_as_real(fft2c(x))
    theirs = fftn_centered_t(torch.view_as_real(x), spatial_dims=2, is_complex=True)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    theirs_inv = ifftn_centered_t(torch.view_as_real(x), spatial_dims=2, is_complex=True)
    torch.testing.assert_close(torch.view_as_real(ifft2c(x)), theirs_inv, rtol=1e-5, atol=1e-5)


def test_channel_conversions_and_abs():
    x = _rand(2, 5, 6, seed=5, dtype=torch.complex64)
    ch = to_channels(x)
    assert ch.shape == (2, 2, 5, 6) and not torch.is_complex(ch)
    torch.testing.assert_close(to_complex(ch), x)
    torch.testing.assert_close(complex_abs(ch, channel_dim=1), x.abs())
    torch.testing.assert_close(complex_abs(x), x.abs())
    torch.testing.assert_close(rss(x, dim=0), x.abs().square().sum(0).sqrt())
    # the magnitude gradient at an exact zero is finite
    z = torch.zeros(1, 2, 2, 2, requires_grad=True)
    complex_abs(z, channel_dim=1).sum().backward()
    assert torch.isfinite(z.grad).all()


def test_bad_inputs():
    with pytest.raises(UsageError, match="complex"):
        fft2c(torch.ones(4, 4))
    with pytest.raises(UsageError, match="size 2"):
        to_complex(torch.ones(1, 3, 4, 4))
    with pytest.raises(UsageError, match="channel_dim"):
        complex_abs(torch.ones(4, 4))
