import numpy as np
import pytest
import torch

from recon.errors import UsageError
from recon_kspace.masks import (
    achieved_acceleration,
    apply_mask,
    default_center_fraction,
    line_mask,
    make_mask,
    validate_mask,
)


# Independent re-derivation of fastMRI's subsample.py formulas (published definitions), with the
# same RNG stream (np.random.RandomState(seed): one randint to pick the (cf, acc) pair, then draws).
def _ref_random(w, acc, cf, seed):
    rng = np.random.RandomState(seed)
    rng.randint(0, 1)
    n_low = int(round(w * cf))
    prob = (w / acc - n_low) / (w - n_low)
    m = rng.uniform(size=w) < prob
    start = (w - n_low + 1) // 2
    m[start : start + n_low] = True
    return m


def _ref_equispaced(w, acc, cf, seed):
    rng = np.random.RandomState(seed)
    rng.randint(0, 1)
    n_low = int(round(w * cf))
    m = np.zeros(w, dtype=bool)
    start = (w - n_low + 1) // 2
    m[start : start + n_low] = True
    spacing = acc * (n_low - w) / (n_low * acc - w)
    offset = rng.randint(0, round(spacing))
    m[np.around(np.arange(offset, w - 1, spacing)).astype(np.uint)] = True
    return m


def _centre(w, cf):
    n_low = int(round(w * cf))
    start = (w - n_low + 1) // 2
    return start, n_low


@pytest.mark.parametrize("kind,ref", [("random", _ref_random), ("equispaced", _ref_equispaced)])
@pytest.mark.parametrize("w", [128, 127, 368, 372])
@pytest.mark.parametrize("acc,cf", [(4, 0.08), (8, 0.04)])
def test_cartesian_masks_match_fastmri_formulas(kind, ref, w, acc, cf):
    for seed in (0, 1, 12345):
        ours = line_mask(kind, w, acc, cf, seed=seed).numpy()
        np.testing.assert_array_equal(ours, ref(w, acc, cf, seed))


@pytest.mark.parametrize("kind", ["equispaced", "random"])
@pytest.mark.parametrize("w", [128, 127, 320, 368])
@pytest.mark.parametrize("acc", [4, 8])
def test_centre_lines_and_acceleration(kind, w, acc):
    cf = default_center_fraction(acc)
    start, n_low = _centre(w, cf)
    accs = []
    for seed in range(40):
        m = make_mask(kind, (64, w), acc, seed=seed)
        assert m.shape == (1, w) and m.dtype == torch.bool
        assert m[0, start : start + n_low].all()  # exactly the fastMRI centre block is always in
        assert n_low == round(w * cf)
        accs.append(achieved_acceleration(m))
    if kind == "equispaced":
        # deterministic count up to rounding of the line positions: within 10 % of the target
        assert all(abs(a - acc) / acc < 0.10 for a in accs), accs
    else:
        # random: the *expected* number of lines is W / acc (fastMRI); the mean over seeds is close
        lines = np.mean([w / a for a in accs])
        assert abs(lines - w / acc) / (w / acc) < 0.08, (lines, w / acc)


def test_centre_is_exactly_the_centre_block_for_equispaced_without_extra_lines():
    # With acceleration = 1 / centre fraction the only sampled lines are the centre ones plus the
    # equispaced ones; the centre block itself is contiguous and sits at (W - n + 1) // 2.
    m = line_mask("equispaced", 100, 4, 0.1, seed=0)
    start, n = _centre(100, 0.1)
    assert m[start : start + n].all()
    assert start == 45 and n == 10


def test_default_center_fractions():
    assert default_center_fraction(4) == 0.08
    assert default_center_fraction(8) == 0.04


@pytest.mark.parametrize("kind", ["equispaced", "random", "poisson"])
def test_deterministic_per_seed(kind):
    a = make_mask(kind, (64, 64), 4, seed=7)
    b = make_mask(kind, (64, 64), 4, seed=7)
    c = make_mask(kind, (64, 64), 4, seed=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("acc", [4, 8])
def test_poisson_disc_mask(acc):
    h, w = 96, 112
    m = make_mask("poisson", (h, w), acc, seed=3)
    assert m.shape == (h, w) and m.dtype == torch.bool
    assert abs(achieved_acceleration(m) - acc) / acc <= 0.03
    cf = default_center_fraction(acc)
    ch, cw = round(h * cf), round(w * cf)
    r0, c0 = (h - ch + 1) // 2, (w - cw + 1) // 2
    assert m[r0 : r0 + ch, c0 : c0 + cw].all()
    # variable density: the inner region is sampled more densely than the periphery
    yy, xx = torch.meshgrid(torch.arange(h) - h // 2, torch.arange(w) - w // 2, indexing="ij")
    r = torch.sqrt((yy / (h / 2)) ** 2 + (xx / (w / 2)) ** 2)
    assert m[r < 0.4].float().mean() > 1.5 * m[r > 0.8].float().mean()


def test_acceleration_one_is_fully_sampled():
    for kind in ("equispaced", "random", "poisson"):
        assert make_mask(kind, (16, 20), 1, seed=0).all()


@pytest.mark.parametrize("acc", [0.5, 0, -2, float("nan")])
def test_acceleration_below_one_rejected(acc):
    with pytest.raises(UsageError, match="acceleration must be >= 1"):
        make_mask("equispaced", (32, 32), acc)


def test_bad_parameters_rejected():
    with pytest.raises(UsageError, match="center_fraction"):
        make_mask("random", (32, 32), 4, center_fraction=1.5)
    with pytest.raises(UsageError, match="lower center_fraction"):
        make_mask("equispaced", (32, 32), 4, center_fraction=0.5)
    with pytest.raises(UsageError, match="unknown mask kind"):
        make_mask("spiral", (32, 32), 4)


def test_empty_mask_rejected():
    k = torch.ones(1, 8, 8, dtype=torch.complex64)
    with pytest.raises(UsageError, match="samples nothing"):
        validate_mask(torch.zeros(1, 8, dtype=torch.bool), k.shape)
    with pytest.raises(UsageError, match="samples nothing"):
        achieved_acceleration(torch.zeros(8, 8))


@pytest.mark.parametrize("mask_w,k_w", [(127, 128), (129, 128), (128, 127)])
def test_odd_even_mismatch_rejected(mask_w, k_w):
    k = torch.ones(2, 16, k_w, dtype=torch.complex64)
    m = make_mask("equispaced", (16, mask_w), 4, seed=0)
    with pytest.raises(UsageError, match="odd/even mismatch"):
        apply_mask(k, m)


def test_height_mismatch_rejected():
    with pytest.raises(UsageError, match="does not match"):
        validate_mask(torch.ones(10, 16, dtype=torch.bool), (1, 12, 16))


def test_apply_mask_zeroes_unsampled():
    k = torch.ones(3, 8, 10, dtype=torch.complex64)
    m = make_mask("random", (8, 10), 2, 0.2, seed=1)
    out = apply_mask(k, m)
    assert torch.equal(out != 0, m.expand(3, 8, 10))
