"""The 3D SR building blocks: voxel shuffle, 3D networks and degradations."""

from __future__ import annotations

import pytest
import torch

from recon_superres.degradations3d import blur_downsample3d, kspace_truncate3d, trilinear_upsample
from recon_superres.networks3d import SRResNet3d, VGGStyleDiscriminator3d, voxel_shuffle


def test_voxel_shuffle_matches_a_naive_loop() -> None:
    x = torch.randn(2, 3 * 8, 2, 3, 4)
    out = voxel_shuffle(x, 2)
    assert out.shape == (2, 3, 4, 6, 8)
    for c in range(3):
        for a in range(2):
            for b in range(2):
                for e in range(2):
                    channel = c * 8 + a * 4 + b * 2 + e  # PixelShuffle's channel order, one more axis
                    assert torch.equal(out[:, c, a::2, b::2, e::2], x[:, channel])


@pytest.mark.parametrize("scale", [2, 4])
def test_generator_and_discriminator_shapes(scale: int) -> None:
    g = SRResNet3d(1, channels=4, blocks=1, scale=scale)
    lr = torch.rand(2, 1, 4, 5, 6)
    sr = g(lr)
    assert sr.shape == (2, 1, 4 * scale, 5 * scale, 6 * scale)
    torch.testing.assert_close(sr, trilinear_upsample(lr, scale))  # zero-initialised tail: the residual
    assert VGGStyleDiscriminator3d(1, 4, 2, fc_channels=8)(sr).shape == (2, 1)


def test_degradations_keep_a_constant_volume() -> None:
    flat = torch.full((1, 1, 8, 8, 8), 0.7)
    torch.testing.assert_close(blur_downsample3d(flat, 2, 1.0), torch.full((1, 1, 4, 4, 4), 0.7))
    torch.testing.assert_close(kspace_truncate3d(flat, 2), torch.full((1, 1, 4, 4, 4), 0.7), atol=1e-5, rtol=1e-5)
