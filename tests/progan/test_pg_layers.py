"""ProGAN's layers and growth schedule against their published formulas (Karras et al. 2018)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from recon_progan.layers import (EqualizedConv, EqualizedLinear, MinibatchStd, PixelNorm, downsample2,
                                 group_size_for, upsample2)
from recon_progan.objective import real_at_stage
from recon_progan.schedule import Stage, growth_steps, levels_for, stage_at


@pytest.mark.parametrize("dims", [2, 3])
def test_equalized_conv_scales_unit_weights_by_he_constant_at_runtime(dims: int) -> None:
    torch.manual_seed(0)
    conv = EqualizedConv(8, 5, 3, spatial_dims=dims)
    assert abs(conv.weight.std().item() - 1.0) < 0.1 and conv.bias.abs().sum() == 0  # N(0, 1) init, zero bias
    fan_in = 8 * 3**dims
    assert conv.scale == pytest.approx(math.sqrt(2) / math.sqrt(fan_in))
    x = torch.randn(2, 8, *([6] * dims))
    ref = (F.conv2d if dims == 2 else F.conv3d)(x, conv.weight * math.sqrt(2 / fan_in), conv.bias, padding=1)
    torch.testing.assert_close(conv(x), ref)
    # the stored weight stays N(0, 1): the scaling is applied in forward, so the gradient is scaled too
    conv(x).sum().backward()
    raw = conv.weight.detach().clone().requires_grad_(True)
    (F.conv2d if dims == 2 else F.conv3d)(x, raw * conv.scale, conv.bias, padding=1).sum().backward()
    torch.testing.assert_close(conv.weight.grad, raw.grad)


def test_equalized_linear_and_torgb_gain() -> None:
    dense = EqualizedLinear(16, 4, gain=1.0)
    assert dense.scale == pytest.approx(1 / 4)
    x = torch.randn(3, 16)
    torch.testing.assert_close(dense(x), x @ (dense.weight / 4).T + dense.bias)
    assert EqualizedConv(10, 1, 1, gain=1.0).scale == pytest.approx(1 / math.sqrt(10))


def test_pixel_norm_gives_unit_mean_square_per_position() -> None:
    y = PixelNorm()(torch.randn(2, 7, 5, 5) * 3)
    torch.testing.assert_close(y.pow(2).mean(1), torch.ones(2, 5, 5), atol=1e-5, rtol=0)


@pytest.mark.parametrize("shape, group", [((8, 3, 4, 4), 4), ((6, 3, 4, 4), 4), ((4, 2, 4, 4, 4), 2)])
def test_minibatch_std_appends_one_map_of_the_group_std(shape: tuple[int, ...], group: int) -> None:
    torch.manual_seed(1)
    x = torch.randn(*shape)
    y = MinibatchStd(group)(x)
    assert y.shape == (shape[0], shape[1] + 1, *shape[2:])
    torch.testing.assert_close(y[:, :-1], x)
    n, g = shape[0], group_size_for(shape[0], group)
    for i in range(n):  # sample i's group: every sample j with j = i (mod n // g)
        members = x[[j for j in range(n) if j % (n // g) == i % (n // g)]]
        expected = members.std(0, unbiased=False).mean()
        torch.testing.assert_close(y[i, -1], torch.full(shape[2:], expected.item()), atol=1e-5, rtol=1e-5)


def test_group_size_divides_the_batch() -> None:
    assert [group_size_for(n, 4) for n in (1, 2, 3, 4, 6, 8, 9)] == [1, 2, 3, 4, 3, 4, 3]


def test_schedule_is_stabilise_then_fade_and_stabilise_per_level() -> None:
    levels, p = levels_for(4, 16), 4
    assert levels == 3 and growth_steps(levels, p) == 20
    stages = [stage_at(s, levels, p) for s in range(24)]
    assert stages[:4] == [Stage(0, 1.0)] * 4
    assert stages[4:8] == [Stage(1, 0.0), Stage(1, 0.25), Stage(1, 0.5), Stage(1, 0.75)]
    assert stages[8:12] == [Stage(1, 1.0)] * 4
    assert [s.alpha for s in stages[12:16]] == [0.0, 0.25, 0.5, 0.75] and stages[12].level == 2
    assert stages[16:] == [Stage(2, 1.0)] * 8
    assert stage_at(5, levels, 0) == Stage(2, 1.0)  # phase_steps 0: no growing
    assert Stage(2, 1.0).resolution(4) == 16
    with pytest.raises(ValueError):
        levels_for(4, 24)


@pytest.mark.parametrize("dims", [2, 3])
def test_reals_are_box_filtered_and_faded_like_the_fakes(dims: int) -> None:
    x = torch.rand(2, 1, *([16] * dims))
    x8 = downsample2(x)
    torch.testing.assert_close(real_at_stage(x, Stage(1, 1.0), 4), x8)
    torch.testing.assert_close(real_at_stage(x, Stage(1, 0.0), 4), upsample2(downsample2(x8)))
    torch.testing.assert_close(real_at_stage(x, Stage(1, 0.25), 4), 0.75 * upsample2(downsample2(x8)) + 0.25 * x8)
    torch.testing.assert_close(real_at_stage(x, Stage(2, 1.0), 4), x)
