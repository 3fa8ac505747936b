"""Foreground judged against the whole volume: noise-only end slices of a real scan are skipped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recon.data.images2d import ImageSpec, load_split_images
from recon.data.slices import foreground_fraction, foreground_threshold, take_slices
from recon.data.split_record import recorded_splits
from tests.conftest import phantom_volume, write_nifti

SHAPE = (48, 48, 60)
HEAD = (12, 48)  # the ellipsoid spans these z slices (half-open); the others are noise only
SIGMA = 0.05  # Rician noise, relative to the head's intensity


def _ellipsoid() -> tuple[np.ndarray, np.ndarray]:
    """A bright ellipsoid 'head' in the middle slices and its per-slice area fraction."""
    x, y, z = np.meshgrid(*[np.arange(n) + 0.5 for n in SHAPE], indexing="ij")
    cz, rz = (HEAD[0] + HEAD[1]) / 2, (HEAD[1] - HEAD[0]) / 2
    r = ((x - 24) / 20) ** 2 + ((y - 24) / 21) ** 2 + ((z - cz) / rz) ** 2
    rng = np.random.default_rng(0)
    head = (r < 1) * (0.8 + 0.2 * (r < 0.4) + 0.05 * rng.standard_normal(SHAPE))
    return head.astype(np.float32), (r < 1).mean(axis=(0, 1))


def _rician(signal: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """``|S + n1 + i n2|``: the magnitude of complex Gaussian noise, as in a real magnitude scan."""
    rng = np.random.default_rng(seed)
    return np.abs(signal + sigma * (rng.standard_normal(signal.shape) + 1j * rng.standard_normal(signal.shape)))


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    head, area = _ellipsoid()
    path = write_nifti(tmp_path_factory.mktemp("fg") / "vol.nii.gz", _rician(head, SIGMA, seed=1) * 1000)
    return path, area


def _kept_slices(source: str, **spec: object) -> tuple[list[int], int]:
    """The z slices the slab split keeps (per recorded slice range) and the number of images loaded."""
    s = ImageSpec(source=source, axis=2, gap=2, **spec)  # type: ignore[arg-type]
    n_images = sum(len(load_split_images(s, split)) for split in ("train", "val", "test"))
    record = [r for r in recorded_splits(source) if r["method"] == "slab"][-1]
    ranges = [record["splits"][split]["slices"] for split in ("train", "val", "test")]
    return [i for lo, hi in ranges for i in range(lo, hi)], n_images


def test_noise_only_end_slices_pass_against_their_own_max() -> None:
    """The bug this guards against: a Rician noise slice is all 'foreground' against its own max."""
    noise = _rician(np.zeros((1, 48, 48)), SIGMA, seed=2)
    assert foreground_fraction(noise, threshold=0.0) > 0.9
    head, _ = _ellipsoid()
    volume = _rician(head, SIGMA, seed=1)[None]
    level = foreground_threshold(volume)
    assert 3 * SIGMA < level < 0.8  # between the noise floor and the head
    assert foreground_fraction(noise, level) < 0.01


def test_split_slices_exclude_noise_only_slices_and_keep_the_head(scan: tuple[Path, np.ndarray]) -> None:
    path, area = scan
    kept, n_images = _kept_slices(str(path), min_foreground=0.1)
    noise_only = [z for z in range(SHAPE[2]) if area[z] == 0]
    assert len(noise_only) >= 20 and not set(kept) & set(noise_only)
    # every slice whose head covers enough of it lies within the splits' foreground extent
    head = [z for z in range(SHAPE[2]) if area[z] >= 0.15]
    extent = range(min(kept), max(kept) + 1)
    assert all(z in extent for z in head)
    # and every slice of the splits' ranges was loaded (each holds enough of the head)
    assert n_images == len(kept) > 0.5 * len(head)


def test_every_file_of_a_folder_skips_its_noise_slices(tmp_path: Path) -> None:
    """Several volumes (no slab split): each volume's slices are judged against that volume."""
    head, area = _ellipsoid()
    folder = tmp_path / "scans"
    folder.mkdir()
    for i in range(3):
        write_nifti(folder / f"s{i}.nii.gz", _rician(head, SIGMA, seed=10 + i) * (500 + 100 * i))
    images = load_split_images(ImageSpec(source=str(folder), axis=2, holdout=False), "test")
    n_head = int((area >= 0.1).sum())
    per_volume = [sum(1 for vid, _ in images if vid == v) for v in range(3)]
    assert all(abs(n - n_head) <= 2 for n in per_volume), (per_volume, n_head)
    assert all(n < SHAPE[2] - 20 for n in per_volume)  # not the noise-only slices


def test_exact_background_keeps_the_slice_max_rule() -> None:
    """A masked volume (background exactly 0, as the built-in MNI152 brain) has threshold 0."""
    volume = phantom_volume((40, 40, 30))[None]
    assert foreground_threshold(volume) == 0.0
    slices = take_slices(volume, 2, range(30))
    for s in slices:
        peak = s.max()
        expected = float((s > 0.05 * peak).mean()) if peak > 0 else 0.0
        assert foreground_fraction(s, 0.0) == expected


def test_a_single_2d_image_uses_its_own_otsu_threshold() -> None:
    yy, xx = np.mgrid[:64, :64]
    disc = ((yy - 32) ** 2 + (xx - 32) ** 2 < 20**2).astype(np.float64)
    image = _rician(disc, SIGMA, seed=3)[None]
    assert foreground_fraction(image) == pytest.approx(disc.mean(), abs=0.01)
    assert foreground_fraction(_rician(np.zeros((1, 64, 64)), SIGMA, seed=4)) < 0.7  # noise alone: Otsu splits it
    assert foreground_fraction(np.zeros((1, 8, 8))) == 0.0


def test_recon_run_on_a_noisy_scan_writes_head_slices_only(cli, scan: tuple[Path, np.ndarray],
                                                           tmp_path: Path) -> None:
    path, area = scan
    out = tmp_path / "run"
    result = cli("run", "--task", "mri_superres", "--preset", "smoke", "--set", "trainer.progress=false",
                 "--set", "data.gap=2", "--data", path, "--out", out)
    assert result.code == 0, result.err
    record = json.loads((out / "splits.json").read_text())["sources"][0]
    assert record["method"] == "slab"
    kept = [z for split in ("train", "val", "test") for z in range(*record["splits"][split]["slices"])]
    assert kept and all(area[z] > 0 for z in kept)
