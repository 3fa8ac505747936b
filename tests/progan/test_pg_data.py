"""3D crops and the montages 3D samples are scored on."""

from __future__ import annotations

import torch

from recon_progan.data import VolumeCrops, draw_crop, montage


def test_montage_puts_the_three_central_slices_side_by_side() -> None:
    volume = torch.zeros(1, 1, 8, 8, 8)
    volume[0, 0, :, :, 4] += 1  # the central axial slice
    volume[0, 0, :, 4, :] += 2  # the central coronal slice
    volume[0, 0, 4, :, :] += 4  # the central sagittal slice
    m = montage(volume)
    assert m.shape == (1, 1, 8, 24)
    axial, coronal, sagittal = m[0, 0, :, :8], m[0, 0, :, 8:16], m[0, 0, :, 16:]
    assert (axial.remainder(2) == 1).all() and ((coronal.div(2, rounding_mode="floor")) % 2 == 1).all()
    assert (sagittal >= 4).all()
    # axial: rows run posterior -> anterior bottom-up, i.e. the second array axis points up
    marker = torch.zeros(1, 1, 8, 8, 8)
    marker[0, 0, 0, 7, 4] = 1  # x = 0 (left), y = 7 (anterior) in the central axial slice
    assert montage(marker)[0, 0, 0, 0] == 1  # top-left


def test_volume_crops_are_a_pure_function_of_seed_and_index() -> None:
    torch.manual_seed(0)
    volumes = (torch.rand(1, 20, 22, 18),)
    a, b = VolumeCrops(volumes, 8, seed=3, min_foreground=0.5, xflip=True), VolumeCrops(volumes, 8, 3, 0.5, True)
    assert a[5]["target"].shape == (1, 8, 8, 8)
    assert torch.equal(a[5]["target"], b[5]["target"]) and not torch.equal(a[5]["target"], a[6]["target"])


def test_crops_prefer_foreground() -> None:
    volume = torch.zeros(1, 32, 32, 32)
    volume[:, 8:, 8:, 8:] = 1.0  # brain in 42 % of the volume, away from one corner
    crop = draw_crop((volume,), 8, torch.Generator().manual_seed(0), min_foreground=0.9)
    assert crop.mean() >= 0.9
