"""The forward operators of ``recon.physics`` against their definitions and independent references.

The centred FFT against NumPy and MONAI; adjointness ``<A x, y> == <x, A^H y>`` of the linear
operators; the pseudo-inverses where they are exact; seeded sampling; batched shapes; the
``meta`` device.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recon.errors import UsageError
from recon.physics import (BicubicDownsample, BlurDownsample, FourierParams, Inpainting, InpaintingParams,
                           KspaceTruncation, MaskedFourier, Operator, RigidMotion, Trajectory, complex_abs, fft2c,
                           fftc, ifft2c, ifftc, rss, simulate_coil_maps, to_channels, to_complex, upsample)


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _crand(*shape: int, seed: int = 0, dtype: torch.dtype = torch.complex128) -> torch.Tensor:
    g = _gen(seed)
    return torch.complex(torch.randn(*shape, generator=g, dtype=torch.float64),
                         torch.randn(*shape, generator=g, dtype=torch.float64)).to(dtype)


def _inner(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``<a, b> = sum conj(a) b`` (real tensors: the dot product)."""
    return (a.conj() * b).sum() if torch.is_complex(a) else (a * b).sum()


def _column_sampler(shape: tuple[int, int], generator: torch.Generator | None) -> torch.Tensor:
    """A random Cartesian column mask ``(1, W)`` with the four central columns sampled."""
    w = shape[1]
    mask = torch.rand(1, w, generator=generator) < 0.3
    mask[:, w // 2 - 2:w // 2 + 2] = True
    return mask


# -- the centred FFT ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dims", [((8, 8), (-2, -1)), ((3, 7, 10), (-2, -1)), ((2, 4, 9, 6), (-3, -2, -1)),
                                        ((5, 11), (-1,)), ((4, 6, 5), (0, 2))])
def test_fft_round_trip_and_parseval(shape, dims):
    x = _crand(*shape)
    k = fftc(x, dims)
    torch.testing.assert_close(ifftc(k, dims), x, rtol=0, atol=1e-12)
    torch.testing.assert_close(fftc(ifftc(x, dims), dims), x, rtol=0, atol=1e-12)
    assert torch.allclose(k.abs().square().sum(), x.abs().square().sum(), rtol=1e-12)
    y = _crand(*shape, seed=1)  # unitary: inner products are preserved, not only norms
    assert torch.allclose(_inner(fftc(y, dims), k), _inner(y, x), rtol=1e-10)


@pytest.mark.parametrize("shape,axes", [((9, 12), (0, 1)), ((3, 6, 7, 5), (1, 2, 3)), ((4, 13), (1,))])
def test_fft_matches_numpy_centred_convention(shape, axes):
    x = _crand(*shape, seed=3)
    ref = np.fft.fftshift(np.fft.fftn(np.fft.ifftshift(x.numpy(), axes=axes), axes=axes, norm="ortho"), axes=axes)
    np.testing.assert_allclose(fftc(x, axes).numpy(), ref, atol=1e-12)
    inv = np.fft.fftshift(np.fft.ifftn(np.fft.ifftshift(x.numpy(), axes=axes), axes=axes, norm="ortho"), axes=axes)
    np.testing.assert_allclose(ifftc(x, axes).numpy(), inv, atol=1e-12)
    real = x.real.float()  # a real image is transformed as it is
    np.testing.assert_allclose(fftc(real, axes).numpy(), np.fft.fftshift(
        np.fft.fftn(np.fft.ifftshift(real.numpy(), axes=axes), axes=axes, norm="ortho"), axes=axes), atol=1e-5)


def test_fft2c_dc_at_the_centre():
    k = fft2c(torch.ones(9, 12, dtype=torch.complex128))
    assert torch.argmax(k.abs()).item() == (9 // 2) * 12 + 12 // 2
    assert k.abs()[9 // 2, 12 // 2] == pytest.approx(np.sqrt(9 * 12))
    torch.testing.assert_close(fft2c(k), fftc(k, (-2, -1)))


@pytest.mark.parametrize("shape", [(1, 8, 8), (2, 7, 10)])
def test_fft2c_matches_monai_fftn_centered(shape):
    from monai.networks.blocks.fft_utils_t import fftn_centered_t, ifftn_centered_t

    x = _crand(*shape, seed=4, dtype=torch.complex64)
    theirs = fftn_centered_t(torch.view_as_real(x), spatial_dims=2, is_complex=True)
    torch.testing.assert_close(torch.view_as_real(fft2c(x)), theirs, rtol=1e-5, atol=1e-5)
    theirs_inv = ifftn_centered_t(torch.view_as_real(x), spatial_dims=2, is_complex=True)
    torch.testing.assert_close(torch.view_as_real(ifft2c(x)), theirs_inv, rtol=1e-5, atol=1e-5)


def test_fftc_3d_matches_monai():
    from monai.networks.blocks.fft_utils_t import fftn_centered_t

    x = _crand(2, 6, 5, 8, seed=5, dtype=torch.complex64)
    theirs = fftn_centered_t(torch.view_as_real(x), spatial_dims=3, is_complex=True)
    torch.testing.assert_close(torch.view_as_real(fftc(x, (-3, -2, -1))), theirs, rtol=1e-5, atol=1e-5)


def test_channel_conversions_and_abs():
    x = _crand(2, 5, 6, seed=5, dtype=torch.complex64)
    ch = to_channels(x)
    assert ch.shape == (2, 2, 5, 6) and not torch.is_complex(ch)
    torch.testing.assert_close(to_complex(ch), x)
    torch.testing.assert_close(complex_abs(ch, channel_dim=1), x.abs())
    torch.testing.assert_close(complex_abs(x), x.abs())
    torch.testing.assert_close(rss(x, dim=0), x.abs().square().sum(0).sqrt())
    z = torch.zeros(1, 2, 2, 2, requires_grad=True)  # the magnitude gradient at an exact zero is finite
    complex_abs(z, channel_dim=1).sum().backward()
    assert torch.isfinite(z.grad).all()


def test_fft_bad_inputs():
    with pytest.raises(UsageError, match="complex"):
        fft2c(torch.ones(4, 4))  # the MR 2D transform refuses a forgotten to_complex
    with pytest.raises(UsageError, match="floating-point or complex"):
        fftc(torch.ones(4, 4, dtype=torch.int64), (-1,))
    with pytest.raises(UsageError, match="distinct"):
        fftc(torch.ones(4, 4), (-1, 1))
    with pytest.raises(UsageError, match="size 2"):
        to_complex(torch.ones(1, 3, 4, 4))
    with pytest.raises(UsageError, match="channel_dim"):
        complex_abs(torch.ones(4, 4))


# -- masked (multi-coil) Fourier sampling -----------------------------------------------------------
def _fourier_params(coils: int, mask_kind: str, n: int = 2, h: int = 12, w: int = 10) -> FourierParams:
    g = _gen(7)
    if mask_kind == "column":
        mask = torch.rand(n, 1, 1, w, generator=g) < 0.5  # one mask per sample
    else:
        mask = torch.rand(h, w, generator=g) < 0.4
    maps = simulate_coil_maps(coils, (h, w), seed=2, dtype=torch.complex128) if coils > 1 else None
    return FourierParams(mask, maps)


@pytest.mark.parametrize("coils", [1, 4])
@pytest.mark.parametrize("mask_kind", ["column", "2d"])
def test_masked_fourier_adjointness(coils, mask_kind):
    op, params = MaskedFourier(), _fourier_params(coils, mask_kind)
    x = _crand(2, 12, 10, seed=8)
    y = _crand(2, coils, 12, 10, seed=9)
    ax = op(x, params)
    assert ax.shape == (2, coils, 12, 10) and op.adjoint(y, params).shape == (2, 12, 10)
    torch.testing.assert_close(_inner(ax, y), _inner(x, op.adjoint(y, params)), rtol=1e-10, atol=1e-10)


def test_masked_fourier_single_coil_pseudo_inverse_is_exact_on_the_sampled_lines():
    op, params = MaskedFourier(), _fourier_params(1, "column")
    y = op(_crand(2, 12, 10, seed=10), params)  # measured data: zero off the mask
    torch.testing.assert_close(op(op.pseudo_inverse(y, params), params), y, rtol=0, atol=1e-12)
    sampled = params.mask.expand_as(y)
    assert torch.equal(y[~sampled], torch.zeros_like(y[~sampled]))
    # A^+ y is the minimum-norm solution: its k-space is zero where nothing was sampled
    k = op.to_kspace(op.pseudo_inverse(y, params))
    assert k[~sampled].abs().max() < 1e-12


def test_masked_fourier_multicoil_fully_sampled_is_inverted():
    x = _crand(3, 12, 10, seed=11)
    maps = simulate_coil_maps(4, (12, 10), seed=1, dtype=torch.complex128)
    op, params = MaskedFourier(), FourierParams(torch.ones(1, 10, dtype=torch.bool), maps)
    y = op(x, params)
    torch.testing.assert_close(op.pseudo_inverse(y, params), x, rtol=0, atol=1e-10)
    torch.testing.assert_close(op.zero_filled_magnitude(y, params), x.abs(), rtol=0, atol=1e-10)
    torch.testing.assert_close(op.from_kspace(op.to_kspace(x, maps), maps), x, rtol=0, atol=1e-10)
    with pytest.raises(UsageError, match="coil maps"):
        op.from_kspace(y)  # multi-coil k-space needs maps for a complex image


def test_masked_fourier_sampling_is_seeded():
    op = MaskedFourier(mask_sampler=_column_sampler, coils=3)
    a, b = op.sample((2, 16, 20), _gen(5)), op.sample((2, 16, 20), _gen(5))
    assert torch.equal(a.mask, b.mask) and torch.equal(a.maps, b.maps)
    assert a.mask.shape == (1, 20) and a.maps.shape == (3, 16, 20)
    c = op.sample((2, 16, 20), _gen(6))
    assert not torch.equal(a.mask, c.mask)
    with pytest.raises(UsageError, match="mask_sampler"):
        MaskedFourier().sample((16, 20), _gen(0))


def test_masked_fourier_rejects_a_mismatched_mask():
    op = MaskedFourier()
    x = _crand(12, 10)
    with pytest.raises(UsageError, match="odd/even"):
        op(x, FourierParams(torch.ones(1, 11)))
    with pytest.raises(UsageError, match="samples nothing"):
        op(x, FourierParams(torch.zeros(1, 10)))


# -- super-resolution --------------------------------------------------------------------------------
@pytest.mark.parametrize("op,lr_shape", [
    (BlurDownsample(2, 1.0), (2, 3, 6, 5)),
    (BlurDownsample(4, 0.0), (1, 1, 3, 4)),
    (BlurDownsample(2, 0.8, spatial_dims=3), (2, 1, 3, 4, 5)),
    (BicubicDownsample(2), (2, 3, 6, 5)),
    (BicubicDownsample(4), (1, 1, 5, 4)),
])
def test_sr_downsampling_adjointness(op, lr_shape):
    scale, spatial = op.scale, len(lr_shape) - 2
    hr_shape = (*lr_shape[:2], *(n * scale for n in lr_shape[2:]))
    x = torch.randn(hr_shape, generator=_gen(0), dtype=torch.float64)
    y = torch.randn(lr_shape, generator=_gen(1), dtype=torch.float64)
    ax = op(x)
    assert ax.shape == lr_shape and op.linear
    aty = op.adjoint(y)
    assert aty.shape == hr_shape
    torch.testing.assert_close(_inner(ax, y), _inner(x, aty), rtol=1e-10, atol=1e-10)
    assert op.pseudo_inverse(y).shape == hr_shape and op.sample(hr_shape, _gen(0)) is None
    assert spatial in (2, 3)


@pytest.mark.parametrize("op", [BlurDownsample(2), BlurDownsample(4, spatial_dims=3), BicubicDownsample(4),
                                KspaceTruncation(2), KspaceTruncation(2, spatial_dims=3)])
def test_sr_constant_image_keeps_its_value_and_batches(op):
    spatial = (16, 24) if getattr(op, "spatial_dims", 2) == 2 else (8, 8, 16)
    flat = torch.full((2, 1, *spatial), 0.7)
    low = op(flat)
    torch.testing.assert_close(low, torch.full_like(low, 0.7), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(op.pseudo_inverse(low), flat, atol=1e-5, rtol=1e-5)
    x = torch.rand(2, 1, *spatial, generator=_gen(3))
    assert torch.equal(op(x)[1], op(x[1]))  # (C, *spatial) is one sample of (N, C, *spatial)


def test_kspace_truncation_pseudo_inverse_recovers_a_band_limited_image():
    y, x = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    image = (1 + 0.3 * torch.cos(2 * torch.pi * x / 32) + 0.2 * torch.sin(2 * torch.pi * 2 * y / 32))[None, None]
    op = KspaceTruncation(2)
    torch.testing.assert_close(op.pseudo_inverse(op(image)), image, atol=1e-4, rtol=0)
    assert not op.linear
    with pytest.raises(NotImplementedError):
        op.adjoint(image)


def test_sr_upsample_is_torch_interpolate():
    low = torch.rand(2, 3, 5, 7, generator=_gen(1))
    ref = torch.nn.functional.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.equal(upsample(low, 4), ref) and torch.equal(BlurDownsample(4).pseudo_inverse(low), ref)
    vol = torch.rand(1, 1, 3, 4, 5, generator=_gen(2))
    ref3 = torch.nn.functional.interpolate(vol, scale_factor=2, mode="trilinear", align_corners=False)
    assert torch.equal(BlurDownsample(2, spatial_dims=3).pseudo_inverse(vol), ref3)


def test_blur_downsample_without_blur_is_the_block_mean():
    image = torch.arange(16.0).view(1, 1, 4, 4)
    assert torch.equal(BlurDownsample(2, sigma=0.0)(image), torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]]))
    with pytest.raises(UsageError, match="scale"):
        BlurDownsample(0)


# -- rigid motion ---------------------------------------------------------------------------------------
def _blob(h: int = 32, w: int = 28) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    return ((xx**2 / 0.5 + yy**2 / 0.6) < 1).float()[None] * (0.6 + 0.4 * torch.rand(1, h, w, generator=_gen(0)))


def test_motion_sampling_is_seeded_and_batched():
    op = RigidMotion(max_rotation=5, max_translation=4, num_events=3, fraction_corrupted=0.4)
    image = _blob()
    a, b = op.sample(image.shape, _gen(1)), op.sample(image.shape, _gen(1))
    assert torch.equal(a.angles, b.angles) and torch.equal(a.line_pose, b.line_pose)
    assert a.angles.shape == (4,) and a.shifts.shape == (4, 2) and a.line_pose.shape == (32,)
    assert torch.equal(op(image, a), op(image, b))
    batch = torch.stack([image, image.flip(-1)])
    traj = op.sample(batch.shape, _gen(2))
    assert traj.batched and traj.line_pose.shape == (2, 32)
    out = op(batch, traj)
    assert out.shape == batch.shape and out.dtype == torch.float32
    assert torch.equal(out[1], op(batch[1], traj[1]))
    assert op.pseudo_inverse(out, traj) is out  # the baseline is the corrupted image itself
    assert not op.linear


def test_motion_without_events_is_the_clean_image_and_translation_is_a_roll():
    image = _blob()
    still = RigidMotion(num_events=0)
    torch.testing.assert_close(still(image, still.sample(image.shape, _gen(0))), image, atol=1e-6, rtol=0)
    shift = Trajectory(torch.tensor([0.0, 0.0]), torch.tensor([[0.0, 0.0], [3.0, -5.0]]),
                       torch.ones(32, dtype=torch.long))
    torch.testing.assert_close(still(image, shift), torch.roll(image, (3, -5), dims=(-2, -1)), atol=1e-5, rtol=0)


# -- inpainting ---------------------------------------------------------------------------------------------
def _hole(shape: tuple[int, int], generator: torch.Generator | None) -> torch.Tensor:
    h, w = shape
    top = int(torch.randint(0, h // 2, (1,), generator=generator))
    left = int(torch.randint(0, w // 2, (1,), generator=generator))
    mask = torch.zeros(1, h, w)
    mask[:, top:top + h // 3, left:left + w // 3] = 1
    return mask


def test_inpainting_adjointness_and_exact_zero_fill():
    op = Inpainting(mask_sampler=_hole)
    params = op.sample((3, 2, 12, 15), _gen(0))
    assert params.mask.shape == (3, 1, 12, 15)
    x = torch.randn(3, 2, 12, 15, generator=_gen(1), dtype=torch.float64)
    y = torch.randn(3, 2, 12, 15, generator=_gen(2), dtype=torch.float64)
    torch.testing.assert_close(_inner(op(x, params), y), _inner(x, op.adjoint(y, params)))
    measured = op(x, params)
    assert torch.equal(op(op.pseudo_inverse(measured, params), params), measured)  # A A^+ y == y
    assert torch.equal(op.keep_known(torch.full_like(x, 9.0), measured, params)[params.mask.expand_as(x) == 0],
                       x[params.mask.expand_as(x) == 0])


@pytest.mark.parametrize("fill", ["mean", "smooth", "biharmonic"])
def test_inpainting_fills_keep_known_pixels_and_ignore_the_hole(fill):
    op = Inpainting(fill, mask_sampler=_hole)
    x = torch.rand(2, 3, 16, 16, generator=_gen(3))
    params = op.sample(x.shape, _gen(4))
    known = params.mask.expand_as(x) == 0
    filled = op.pseudo_inverse(op(x, params), params)
    assert torch.equal(filled[known], x[known])
    noisy_hole = torch.where(params.mask.bool().expand_as(x), torch.rand_like(x), x)
    torch.testing.assert_close(op.pseudo_inverse(noisy_hole, params), filled)
    one = InpaintingParams(params.mask[1])  # (C, H, W) is one sample of (N, C, H, W)
    assert torch.equal(op.pseudo_inverse(op(x[1], one), one), filled[1])


def test_inpainting_sampling_is_seeded():
    op = Inpainting(mask_sampler=_hole)
    assert torch.equal(op.sample((1, 20, 20), _gen(3)).mask, op.sample((1, 20, 20), _gen(3)).mask)
    with pytest.raises(UsageError, match="fill"):
        Inpainting("blur")


# -- the contract ------------------------------------------------------------------------------------------
def test_every_operator_runs_on_the_meta_device():
    meta = torch.device("meta")
    image = torch.empty(2, 12, 10, dtype=torch.complex64, device=meta)
    maps = torch.empty(1, 4, 12, 10, dtype=torch.complex64, device=meta)
    params = FourierParams(torch.ones(1, 10, device=meta), maps)
    op = MaskedFourier()
    assert op(image, params).shape == (2, 4, 12, 10) and op.adjoint(op(image, params), params).shape == (2, 12, 10)
    hr = torch.empty(2, 1, 16, 16, device=meta)
    for sr in (BlurDownsample(2), BicubicDownsample(2), KspaceTruncation(2)):
        assert sr(hr).shape == (2, 1, 8, 8) and sr.pseudo_inverse(sr(hr)).shape == hr.shape
    assert BlurDownsample(2).adjoint(torch.empty(2, 1, 8, 8, device=meta)).shape == hr.shape
    mask = InpaintingParams(torch.empty(2, 1, 16, 16, device=meta))
    # (the smooth and biharmonic fills branch on the data: not on meta)
    assert Inpainting("mean").pseudo_inverse(Inpainting()(hr, mask), mask).shape == hr.shape


def test_base_operator_contract():
    class Scale(Operator):
        def forward(self, x, params=None):
            return 2 * x

    op = Scale()
    assert torch.equal(op(torch.ones(2)), torch.full((2,), 2.0)) and op.sample((2,), _gen(0)) is None
    with pytest.raises(NotImplementedError, match="not linear"):
        op.adjoint(torch.ones(2))


@pytest.mark.parametrize("op, method", [(MaskedFourier(), "forward"), (MaskedFourier(), "adjoint"),
                                        (MaskedFourier(), "pseudo_inverse"), (Inpainting(), "forward"),
                                        (Inpainting(), "adjoint"), (Inpainting(), "pseudo_inverse"),
                                        (RigidMotion(), "forward")])
def test_operators_with_parameters_refuse_none(op, method):
    """Their signatures keep the base class's ``params=None``; leaving it out is a TypeError naming the method."""
    with pytest.raises(TypeError, match=f"{type(op).__name__}.{method} needs params"):
        getattr(op, method)(torch.zeros(1, 1, 8, 8))
