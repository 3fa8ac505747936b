"""Fade-in: at alpha = 0 a new level reproduces the level below (upsampled); at alpha = 1 only the new block."""

from __future__ import annotations

import pytest
import torch

from recon_progan.layers import downsample2, upsample2
from recon_progan.networks import Discriminator, Generator

KW = dict(resolution=16, start_resolution=4, channel_base=64, channel_max=8)


def _nets(dims: int) -> tuple[Generator, Discriminator]:
    torch.manual_seed(0)
    return Generator(z_dim=8, spatial_dims=dims, **KW), Discriminator(spatial_dims=dims, **KW)


@pytest.mark.parametrize("dims", [2, 3])
def test_generator_fade_in(dims: int) -> None:
    G, _ = _nets(dims)
    z = torch.randn(3, 8)
    G.set_stage(1, 1.0)
    low = G(z)
    assert low.shape == (3, 1, *([8] * dims))
    G.set_stage(2, 0.0)
    torch.testing.assert_close(G(z), upsample2(low))  # alpha = 0: the lower level, upsampled
    G.set_stage(2, 1.0)
    new = G(z)
    assert new.shape == (3, 1, *([16] * dims))
    with torch.no_grad():  # alpha = 1: the old toRGB plays no part
        G.to_rgb[1].weight.add_(1.0)
    torch.testing.assert_close(G(z), new)
    G.set_stage(2, 0.3)
    torch.testing.assert_close(G(z), torch.lerp(upsample2(G.to_rgb[1](G._block(1, G._block(0, _head(G, z))))), new,
                                                0.3))


def _head(G: Generator, z: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    x = G.dense(G.norm(z)).reshape(z.shape[0], G.widths[0], *([4] * G.spatial_dims))
    return G.norm(F.leaky_relu(x, 0.2))


@pytest.mark.parametrize("dims", [2, 3])
def test_discriminator_fade_in(dims: int) -> None:
    _, D = _nets(dims)
    x = torch.randn(4, 1, *([16] * dims))
    D.set_stage(1, 1.0)
    low = D(downsample2(x))
    D.set_stage(2, 0.0)
    torch.testing.assert_close(D(x), low)  # alpha = 0: the lower level on the downsampled image
    D.set_stage(2, 1.0)
    new = D(x)
    assert new.shape == (4, 1)
    with torch.no_grad():
        D.from_rgb[1].weight.add_(1.0)
    torch.testing.assert_close(D(x), new)  # alpha = 1: the old fromRGB plays no part
    with pytest.raises(ValueError, match="expects 16"):
        D(downsample2(x))


def test_stage_travels_in_the_state_dict() -> None:
    G, _ = _nets(2)
    G.set_stage(1, 0.25)
    other = Generator(z_dim=8, **KW)
    assert other.stage.level == 2
    other.load_state_dict(G.state_dict())
    assert (other.level, other.alpha) == (1, 0.25)
    with pytest.raises(ValueError):
        G.set_stage(3)
