"""The k-space motion simulation against independent references (NumPy FFT, torch.roll/rot90)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recon.physics import RigidMotion, Trajectory, acquisition_order, center_rows, fft2c, ifft2c
from recon_motion.simulate import MotionParams, simulate_motion


def _image(h: int = 40, w: int = 36, seed: int = 0) -> torch.Tensor:
    """A smooth blob with texture, zero at the border: ``(1, H, W)``."""
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    blob = (x**2 / 0.5 + y**2 / 0.6 < 1) * (0.6 + 0.4 * rng.random((h, w)))
    return torch.from_numpy(blob.astype(np.float32))[None]


def _numpy_kspace(image: np.ndarray) -> np.ndarray:
    """fastMRI's centred orthonormal FFT, written with NumPy."""
    return np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(image, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))


def _single_pose(h: int, angle: float, dy: float, dx: float) -> Trajectory:
    """Every row acquired in one moved pose."""
    return Trajectory(torch.tensor([0.0, angle]), torch.tensor([[0.0, 0.0], [dy, dx]]),
                      torch.ones(h, dtype=torch.long))


def test_fft_helpers_match_numpy_and_invert() -> None:
    image = _image()
    k = fft2c(image.to(torch.complex64))
    assert np.allclose(k.numpy(), _numpy_kspace(image.numpy()), atol=1e-5)
    assert torch.allclose(ifft2c(k).real, image, atol=1e-6)


def test_zero_events_is_the_clean_image() -> None:
    image = _image()
    params = MotionParams(max_rotation=10, max_translation=5, num_events=0, fraction_corrupted=0.7)
    trajectory = params.sample_trajectory(image.shape[-2], torch.Generator().manual_seed(3))
    assert not trajectory.line_pose.any()
    assert torch.equal(RigidMotion.corrupt_kspace(image, trajectory), fft2c(image.to(torch.complex64)))
    corrupted, _ = simulate_motion(image, params, torch.Generator().manual_seed(3))
    assert torch.allclose(corrupted, image, atol=1e-6)


def test_zero_fraction_is_the_clean_image() -> None:
    image = _image()
    params = MotionParams(num_events=3, fraction_corrupted=0.0)
    corrupted, trajectory = simulate_motion(image, params, torch.Generator().manual_seed(0))
    assert trajectory.corrupted_fraction == 0.0
    assert torch.allclose(corrupted, image, atol=1e-6)


@pytest.mark.parametrize("shift", [(3, -5), (-7, 2)])
def test_integer_translation_is_a_circular_shift(shift: tuple[int, int]) -> None:
    image = _image()
    k = RigidMotion.corrupt_kspace(image, _single_pose(image.shape[-2], 0.0, *shift))
    assert torch.allclose(ifft2c(k).abs(), torch.roll(image, shift, dims=(-2, -1)), atol=1e-5)


@pytest.mark.parametrize("size", [(40, 36), (33, 27)])
def test_subpixel_translation_is_the_fourier_phase_ramp(size: tuple[int, int]) -> None:
    h, w = size
    image = _image(h, w)
    dy, dx = 1.3, -2.6
    k = RigidMotion.corrupt_kspace(image, _single_pose(h, 0.0, dy, dx)).numpy()
    fy = np.fft.fftshift(np.fft.fftfreq(h))[:, None]  # centred frequencies, cycles per pixel
    fx = np.fft.fftshift(np.fft.fftfreq(w))[None, :]
    expected = _numpy_kspace(image.numpy()) * np.exp(-2j * np.pi * (fy * dy + fx * dx))
    assert np.allclose(k, expected, atol=1e-5)


def test_rotation_by_90_degrees_matches_rot90() -> None:
    image = _image(31, 31)
    k = RigidMotion.corrupt_kspace(image, _single_pose(31, 90.0, 0.0, 0.0))
    # kornia: positive angles turn anticlockwise as displayed, like torch.rot90(k=1)
    assert torch.allclose(ifft2c(k).abs(), torch.rot90(image, 1, dims=(-2, -1)), atol=1e-4)


@pytest.mark.parametrize("h,fraction,center,ordering", [
    (64, 0.3, 0.08, "sequential"), (64, 0.5, 0.0, "centre_out"), (97, 0.25, 0.1, "centre_out"),
    (50, 0.9, 0.1, "sequential"),
])
def test_corrupted_lines_fraction_as_configured(h: int, fraction: float, center: float, ordering: str) -> None:
    params = MotionParams(num_events=3, fraction_corrupted=fraction, center_fraction=center, ordering=ordering)
    for seed in range(5):
        trajectory = params.sample_trajectory(h, torch.Generator().manual_seed(seed))
        moved = trajectory.line_pose != 0
        assert int(moved.sum()) == round(fraction * h)
        assert not moved[center_rows(h, center)].any()  # the kept centre is in the reference pose
        # acquired after the first event: the moved rows are the last ones in acquisition order
        in_order = trajectory.line_pose[acquisition_order(h, ordering)]
        kept = center_rows(h, center)[acquisition_order(h, ordering)]
        poses = in_order[~kept]
        assert torch.all(poses[1:] >= poses[:-1])  # poses change only forwards in time
        assert set(poses.tolist()) - {0} == {1, 2, 3}  # three events, each after the previous one


def test_centre_rows_and_acquisition_orders() -> None:
    assert center_rows(10, 0.2).nonzero().flatten().tolist() == [4, 5]
    assert center_rows(11, 0.3).nonzero().flatten().tolist() == [4, 5, 6]
    order = acquisition_order(8, "centre_out")
    assert sorted(order.tolist()) == list(range(8)) and order[0] == 4
    distance = (order - 4).abs()
    assert torch.all(distance[1:] >= distance[:-1])
    assert acquisition_order(5, "sequential").tolist() == [0, 1, 2, 3, 4]


def test_poses_within_configured_bounds() -> None:
    params = MotionParams(max_rotation=4.0, max_translation=2.5, num_events=6)
    trajectory = params.sample_trajectory(64, torch.Generator().manual_seed(1))
    assert trajectory.angles[0] == 0 and torch.all(trajectory.shifts[0] == 0)
    assert trajectory.angles.abs().max() <= 4.0 and trajectory.shifts.abs().max() <= 2.5
    assert trajectory.angles[1:].abs().max() > 0


def test_reproducible_per_seed() -> None:
    image = _image()
    params = MotionParams(max_rotation=5, max_translation=4, num_events=3, fraction_corrupted=0.5)
    a, ta = simulate_motion(image, params, torch.Generator().manual_seed(11))
    b, tb = simulate_motion(image, params, torch.Generator().manual_seed(11))
    c, _ = simulate_motion(image, params, torch.Generator().manual_seed(12))
    assert torch.equal(a, b) and torch.equal(ta.line_pose, tb.line_pose) and torch.equal(ta.angles, tb.angles)
    assert not torch.allclose(a, c)
    assert not torch.allclose(a, image, atol=1e-3)  # motion did corrupt the image


def test_whole_slice_training_items_keep_their_shape() -> None:
    """``data.patch_size=0`` trains on whole (non-square) slices: augmentation must not transpose them."""
    from recon.api import MeasuredCrops
    from recon_motion.data import corrupt

    slices = [_image(40, 36, seed) for seed in range(2)]
    dataset = MeasuredCrops(slices, 0, 0, corrupt(MotionParams()), augment=True)
    for i in range(12):
        item = dataset[i]
        assert item["input"].shape == item["target"].shape == (1, 40, 36)
    patches = MeasuredCrops(slices, 16, 0, corrupt(MotionParams()), augment=True)
    assert patches[0]["input"].shape == (1, 16, 16)
    assert torch.equal(patches[5]["input"], patches[5]["input"])  # item i is a pure function of i
