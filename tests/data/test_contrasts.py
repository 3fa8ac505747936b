"""The mni152 source: real T1, simulated T2/PD by the spin-echo equation, Rician noise, disk cache."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from recon.data import contrasts
from recon.data.sources import mni152, mni152_tissue


def test_spin_echo_matches_the_published_constants() -> None:
    # independent hand computation: BrainWeb 1.5 T CSF (T1 2569, T2 329, PD 1.0), T2w TR 4000 / TE 100
    csf = 1.0 * (1 - math.exp(-4000 / 2569)) * math.exp(-100 / 329)
    wm = 0.77 * (1 - math.exp(-4000 / 500)) * math.exp(-100 / 70)
    signals = contrasts.tissue_signals("t2")
    assert signals["csf"] == pytest.approx(1.0)
    assert signals["wm"] == pytest.approx(wm / csf, rel=1e-9)


@pytest.mark.parametrize("field", ["1.5T", "3T"])
def test_tissue_order_per_contrast(field: str) -> None:
    t1, t2, pd = (contrasts.tissue_signals(c, field) for c in ("t1", "t2", "pd"))
    assert t1["wm"] > t1["gm"] > t1["csf"]
    assert t2["csf"] > t2["gm"] > t2["wm"]
    assert pd["gm"] > pd["wm"]
    if field == "1.5T":  # at 3 T CSF's long T1 (3 s) is not fully recovered at TR 4 s
        assert pd["csf"] >= pd["gm"]


def test_partial_volume_is_the_weighted_sum() -> None:
    fractions = {"gm": np.array([0.5, 0.0]), "wm": np.array([0.5, 0.0]), "csf": np.array([0.0, 1.0])}
    s = contrasts.tissue_signals("pd")
    out = contrasts.simulate(fractions, "pd")
    np.testing.assert_allclose(out, [0.5 * s["gm"] + 0.5 * s["wm"], s["csf"]], rtol=1e-6)


def test_rician_noise_statistics() -> None:
    rng = np.random.default_rng(0)
    zero = contrasts.rician_noise(np.zeros(200_000, np.float32), 0.1, rng)
    assert zero.mean() == pytest.approx(0.1 * math.sqrt(math.pi / 2), rel=0.01)  # Rayleigh mean
    bright = contrasts.rician_noise(np.full(200_000, 1.0, np.float32), 0.1, rng)
    assert np.mean(bright**2) == pytest.approx(1.0 + 2 * 0.01, rel=0.01)  # E|S+n|^2 = S^2 + 2 sigma^2


@pytest.fixture(scope="module")
def maps() -> dict[str, np.ndarray]:
    return {k: mni152_tissue(k) for k in ("gm", "wm", "csf", "mask")}


@pytest.mark.parametrize("contrast,order", [("t1", ("wm", "gm", "csf")), ("t2", ("csf", "gm", "wm")),
                                            ("pd", ("csf", "gm", "wm"))])
def test_mni152_contrast_order_in_pure_tissue(maps, contrast: str, order: tuple[str, ...]) -> None:
    volume = mni152(contrast)
    assert volume.array.shape == (1, 197, 233, 189) and volume.array.dtype == np.float32
    assert 0.0 <= volume.array.min() and volume.array.max() <= 1.0
    means = [float(volume.array[0][maps[t] > 0.9].mean()) for t in order]
    assert means[0] > means[1] > means[2], (contrast, means)


def test_simulated_t2_is_the_equation_on_the_maps(maps) -> None:
    volume = mni152("t2").array[0]
    s = contrasts.tissue_signals("t2")
    voxel = (98, 120, 90)
    expected = sum(s[t] * maps[t][voxel] for t in ("gm", "wm", "csf"))
    assert volume[voxel] == pytest.approx(expected, rel=1e-5)
    assert np.all(maps["csf"] >= 0) and np.all(maps["csf"] <= maps["mask"] + 1e-6)


def test_rician_noise_is_seeded() -> None:
    a, b, c = mni152("pd", 0.03, seed=1), mni152("pd", 0.03, seed=1), mni152("pd", 0.03, seed=2)
    assert np.array_equal(a.array, b.array) and not np.array_equal(a.array, c.array)
    clean = mni152("pd").array
    background = clean == 0
    assert a.array[background].mean() == pytest.approx(0.03 * math.sqrt(math.pi / 2), rel=0.05)


def test_unknown_contrast_is_a_data_error() -> None:
    from recon.errors import DataError

    with pytest.raises(DataError, match="unknown contrast 'flair'"):
        mni152("flair")


def test_second_load_needs_no_nilearn(tmp_path) -> None:
    """Once cached on disk, the MNI152 maps load with nilearn and scikit-learn unimportable."""
    env = {**os.environ, "RECON_CACHE_DIR": str(tmp_path)}
    warm = "from recon.data.sources import mni152; mni152('t2')"
    cold = ("import sys; sys.modules['nilearn'] = None; sys.modules['sklearn'] = None\n"
            "from recon.data.sources import mni152; v = mni152('t2'); print(v.array.shape)")
    subprocess.run([sys.executable, "-c", warm], env=env, check=True, timeout=300)
    out = subprocess.run([sys.executable, "-c", cold], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "(1, 197, 233, 189)" in out.stdout
    assert sorted(p.name.split("-")[1] for p in tmp_path.glob("mni152-*.npz")) == ["gm", "mask", "t1", "wm"]
