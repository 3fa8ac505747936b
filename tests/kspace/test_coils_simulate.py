import math

import pytest
import torch

from recon.errors import UsageError
from recon.physics import (FourierParams, MaskedFourier, coil_combine_rss, fft2c, ifft2c, sense_combine, sense_expand,
                           simulate_coil_maps)
from recon_kspace.masks import make_mask
from recon_kspace.simulate import add_smooth_phase, simulate_sample, smooth_random_phase


def _image(h=32, w=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return add_smooth_phase(torch.rand(h, w, generator=g) + 0.1, generator=g)


@pytest.mark.parametrize("c", [2, 4, 8])
def test_coil_maps_normalised_and_smooth(c):
    maps = simulate_coil_maps(c, (48, 40), seed=1)
    assert maps.shape == (c, 48, 40) and maps.dtype == torch.complex64
    torch.testing.assert_close(maps.abs().square().sum(0), torch.ones(48, 40), rtol=1e-5, atol=1e-5)
    # smooth: neighbouring pixels differ little
    assert (maps[..., 1:, :] - maps[..., :-1, :]).abs().max() < 0.2
    assert (maps[..., :, 1:] - maps[..., :, :-1]).abs().max() < 0.2
    # coils differ (spatially varying sensitivity), so the maps carry information
    assert (maps[0].abs() - maps[1].abs()).abs().max() > 0.1
    assert torch.equal(maps, simulate_coil_maps(c, (48, 40), seed=1))


def test_single_uniform_coil_combination_equals_single_coil_image():
    x = _image()
    maps = simulate_coil_maps(1, x.shape)
    assert torch.equal(maps, torch.ones(1, *x.shape, dtype=torch.complex64))
    k_multi = MaskedFourier.to_kspace(x, maps)  # (1, H, W)
    k_single = MaskedFourier.to_kspace(x)  # (1, H, W)
    torch.testing.assert_close(k_multi, k_single)
    coil_images = ifft2c(k_multi)
    torch.testing.assert_close(coil_combine_rss(coil_images), x.abs(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(sense_combine(coil_images, maps), x, rtol=1e-5, atol=1e-6)


def test_multicoil_combination_recovers_image():
    x = _image(seed=2)
    maps = simulate_coil_maps(6, x.shape, seed=3)
    coil_images = sense_expand(x, maps)
    torch.testing.assert_close(sense_combine(coil_images, maps), x, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(coil_combine_rss(coil_images), x.abs(), rtol=1e-4, atol=1e-5)
    with pytest.raises(UsageError, match="does not match"):
        sense_combine(coil_images, maps[:, :10])


def test_smooth_phase_is_smooth_bounded_seeded():
    p = smooth_random_phase((3, 64, 64), max_phase=math.pi, seed=0)
    assert p.shape == (3, 64, 64)
    assert p.abs().max() <= math.pi + 1e-5
    # smooth = band-limited: all its spectral energy within the (2 cutoff + 1)^2 lowest frequencies
    k = fft2c(p.to(torch.complex64)).abs().square()
    c = 32
    inner = k[..., c - 2 : c + 3, c - 2 : c + 3].sum()
    assert (k.sum() - inner) / k.sum() < 1e-6
    assert torch.equal(p, smooth_random_phase((3, 64, 64), seed=0))
    assert not torch.equal(p[0], p[1])  # independent per image


def test_simulation_breaks_hermitian_symmetry():
    """Magnitude-only images have Hermitian k-space (the 'data crime'); ours must not."""
    mag = torch.rand(32, 32, generator=torch.Generator().manual_seed(0))
    def asym(k):
        # k(-u) vs conj(k(u)) on the centred grid of an even size: index i <-> (-i) mod N about N//2
        flipped = torch.roll(torch.flip(k, dims=(-2, -1)), shifts=(1, 1), dims=(-2, -1))
        return ((k - flipped.conj()).abs().norm() / k.abs().norm()).item()
    assert asym(fft2c(mag.to(torch.complex64))) < 1e-5
    assert asym(fft2c(add_smooth_phase(mag, seed=1))) > 0.1
    torch.testing.assert_close(add_smooth_phase(mag, seed=1).abs(), mag)


@pytest.mark.parametrize("coils", [0, 4])
def test_fully_sampled_zero_filled_equals_target(coils):
    mag = torch.rand(2, 32, 36, generator=torch.Generator().manual_seed(5))
    maps = simulate_coil_maps(coils, (32, 36), seed=0) if coils else None
    full = make_mask("equispaced", (32, 36), 1)
    s = simulate_sample(mag, full, maps=maps, seed=0)
    torch.testing.assert_close(s.zero_filled, s.image, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(s.zero_filled.abs(), mag, rtol=1e-4, atol=1e-5)
    rss_zero_filled = MaskedFourier().zero_filled_magnitude(s.masked_kspace, FourierParams(s.mask, s.maps))
    torch.testing.assert_close(rss_zero_filled, mag, rtol=1e-4, atol=1e-5)


def test_undersampled_sample_is_masked_and_seeded():
    mag = torch.rand(32, 32, generator=torch.Generator().manual_seed(6))
    m = make_mask("random", (32, 32), 4, seed=0)
    s = simulate_sample(mag, m, seed=3)
    assert s.masked_kspace.shape == (1, 32, 32)
    assert torch.equal(s.masked_kspace[..., ~m[0]], torch.zeros_like(s.masked_kspace[..., ~m[0]]))
    torch.testing.assert_close(s.masked_kspace[..., m[0]], s.kspace[..., m[0]])
    assert (s.zero_filled - s.image).abs().norm() > 0.01 * s.image.abs().norm()
    assert torch.equal(simulate_sample(mag, m, seed=3).masked_kspace, s.masked_kspace)
    with pytest.raises(UsageError, match="coil maps"):
        MaskedFourier.from_kspace(torch.ones(2, 3, 8, 8, dtype=torch.complex64))
