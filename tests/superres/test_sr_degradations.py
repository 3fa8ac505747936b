"""SR degradations keep intensities and geometry; the bicubic baseline is what it says."""

from __future__ import annotations

import pytest
import torch

from recon_superres import degradations


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("kind", ["blur", "bicubic", "kspace"])
def test_constant_image_keeps_its_value(kind: str, scale: int) -> None:
    image = torch.full((1, 1, 32, 48), 0.7)
    low = degradations.degrade(image, kind, scale, sigma=1.0)
    assert low.shape == (1, 1, 32 // scale, 48 // scale)
    assert torch.allclose(low, torch.full_like(low, 0.7), atol=1e-5)


@pytest.mark.parametrize("scale", [2, 4])
def test_kspace_zero_pad_keeps_a_constant(scale: int) -> None:
    low = torch.full((1, 1, 8, 12), 0.7)
    high = degradations.kspace_zero_pad(low, scale)
    assert high.shape == (1, 1, 8 * scale, 12 * scale)
    assert torch.allclose(high, torch.full_like(high, 0.7), atol=1e-5)


def test_kspace_truncation_then_zero_pad_recovers_a_band_limited_image() -> None:
    y, x = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    image = (1 + 0.3 * torch.cos(2 * torch.pi * x / 32) + 0.2 * torch.sin(2 * torch.pi * 2 * y / 32))[None, None]
    recovered = degradations.kspace_zero_pad(degradations.kspace_truncate(image, 2), 2)
    assert torch.allclose(recovered, image, atol=1e-4)


def test_blur_downsample_is_block_mean_without_blur() -> None:
    image = torch.arange(16.0).view(1, 1, 4, 4)
    low = degradations.blur_downsample(image, 2, sigma=0.0)
    expected = torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]])
    assert torch.equal(low, expected)


def test_bicubic_upsample_matches_torch() -> None:
    low = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(1))
    up = degradations.bicubic_upsample(low, 4)
    ref = torch.nn.functional.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.equal(up, ref) and up.shape == (2, 3, 20, 28)
