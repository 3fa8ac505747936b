"""The task's pieces: simulated and fastMRI datasets, coil-map estimation, the k-space loss, HFEN."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.ndimage import convolve

from recon.physics import (FourierParams, MaskedFourier, coil_combine_rss, fft2c, ifft2c, sense_combine,
                           simulate_coil_maps, to_channels)
from recon_kspace.calibration import estimate_maps
from recon.api import MeasurementSlices, RandomPatchDataset
from recon_kspace.data import Simulation, simulated_sample
from recon_kspace.evaluate import hfen
from recon_kspace.fastmri_data import FastMRIEvalDataset, scan_file
from recon_kspace.fastmri_io import write_fastmri
from recon_kspace.masks import achieved_acceleration, make_mask
from recon_kspace.simulate import add_smooth_phase
from recon_kspace.task import KspaceReconstructionTask, kspace_l1


def _images(n: int = 3, shape: tuple[int, int] = (40, 48), seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(1, *shape, generator=g) for _ in range(n)]


def _train(seed: int, rows: int) -> RandomPatchDataset:
    """What the task builds: rows x whole-width crops, flips, then the simulation."""
    return RandomPatchDataset(_images(), (rows, 0), seed, simulated_sample(Simulation(), full=True), augment="flips")


def test_train_items_are_a_pure_function_of_seed_and_index() -> None:
    a = _train(7, 24)
    b = _train(7, 24)
    first, again, other = a[5], b[5], a[6]
    assert set(first) == {"input", "target", "zero_filled", "kspace", "mask", "kspace_full"}
    for key in first:
        assert torch.equal(first[key], again[key]), key
    assert not torch.equal(first["kspace"], other["kspace"])
    assert first["target"].shape == (1, 24, 48) and first["kspace"].shape == (1, 24, 48)
    assert first["zero_filled"].shape == (2, 24, 48) and first["mask"].shape == (1, 1, 48)
    assert not torch.equal(_train(8, 24)[5]["kspace"], first["kspace"])


def test_item_is_the_masked_kspace_of_a_phased_target() -> None:
    item = Simulation(acceleration=4).item(_images(1)[0], mask_seed=3, seed=3, full=True)
    mask = item["mask"][0] > 0
    assert achieved_acceleration(mask) == pytest.approx(4, rel=0.1)
    assert bool(mask[0, 48 // 2 - 1:48 // 2 + 2].all())  # the centre lines (round(0.08 * 48) = 4)
    image = ifft2c(item["kspace_full"])[0]
    torch.testing.assert_close(image.abs(), item["target"][0], atol=1e-5, rtol=1e-4)  # magnitude unchanged
    assert float(image.angle().std()) > 0.1  # ... but the phase is not zero: no Hermitian symmetry
    torch.testing.assert_close(item["kspace"], item["kspace_full"] * mask)
    torch.testing.assert_close(item["input"][0], ifft2c(item["kspace"])[0].abs())


def test_fully_sampled_mask_makes_zero_filled_the_target() -> None:
    item = Simulation(acceleration=1, coils=4).item(_images(1)[0], mask_seed=0, seed=1)
    torch.testing.assert_close(item["input"], item["target"], atol=1e-5, rtol=1e-4)
    assert item["maps"].shape == (4, 40, 48)


def test_item_is_the_declared_operator_applied_to_the_phased_image() -> None:
    sim = Simulation(acceleration=4, coils=3)
    op = sim.operator()
    assert isinstance(op, MaskedFourier) and op.coils == 3
    item = sim.item(_images(1)[0], mask_seed=5, seed=6, full=True)
    params = FourierParams(item["mask"][0] > 0, item["maps"])
    image = sense_combine(ifft2c(item["kspace_full"]), item["maps"])  # the phased ground truth
    torch.testing.assert_close(op(image, params), item["kspace"], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(op.zero_filled_magnitude(item["kspace"], params), item["input"][0])
    torch.testing.assert_close(to_channels(op.pseudo_inverse(item["kspace"], params), dim=0), item["zero_filled"])
    drawn = op.sample((40, 48), torch.Generator().manual_seed(0))  # masks of the run's kind, seeded
    assert drawn.maps.shape == (3, 40, 48) and achieved_acceleration(drawn.mask) == pytest.approx(4, rel=0.1)
    assert torch.equal(drawn.mask, op.sample((40, 48), torch.Generator().manual_seed(0)).mask)


def test_fixed_mask_mode_and_eval_items() -> None:
    sim = Simulation(fixed_mask_seed=11)
    assert torch.equal(sim.mask((40, 48), 1), sim.mask((40, 48), 2))
    assert not torch.equal(Simulation().mask((40, 48), 1), Simulation().mask((40, 48), 2))
    images = tuple((v, im.numpy()) for v, im in zip([0, 0, 1], _images(), strict=True))
    ds = MeasurementSlices(images, simulated_sample(Simulation()))
    assert [int(ds[i]["volume"]) for i in range(3)] == [0, 0, 1]
    assert torch.equal(ds[2]["kspace"], ds[2]["kspace"])


def test_kspace_loss_is_zero_for_the_true_image_only() -> None:
    for coils in (1, 3):
        item = Simulation(coils=coils).item(_images(1)[0], mask_seed=0, seed=2, full=True)
        batch = {k: v[None] for k, v in item.items()}
        truth = ifft2c(item["kspace_full"])
        truth = truth[0] if coils == 1 else sense_combine(truth, item["maps"])
        assert float(kspace_l1(to_channels(truth[None], dim=1), batch)) < 1e-5
        assert float(kspace_l1(batch["zero_filled"], batch)) > 1e-3


def test_estimated_maps_from_a_fully_sampled_centre() -> None:
    g = torch.Generator().manual_seed(0)
    image = add_smooth_phase(0.2 + torch.rand(32, 36, generator=g), seed=0)
    coil_images = simulate_coil_maps(4, (32, 36), seed=0) * image
    kspace = fft2c(coil_images)
    maps = estimate_maps(kspace, torch.ones(1, 36, dtype=torch.bool))
    torch.testing.assert_close((maps.abs() ** 2).sum(0), torch.ones(32, 36), atol=1e-4, rtol=1e-4)
    combined = sense_combine(coil_images, maps)  # with the full k-space: the RSS, real and >= 0
    torch.testing.assert_close(combined.real, coil_combine_rss(coil_images), atol=1e-4, rtol=1e-4)
    assert float(combined.imag.abs().max()) < 1e-4
    undersampled = estimate_maps(kspace * make_mask("equispaced", (32, 36), 4, seed=0),
                                 make_mask("equispaced", (32, 36), 4, seed=0))
    assert torch.isfinite(torch.view_as_real(undersampled)).all()


def test_fastmri_eval_item_and_output_are_cropped_to_the_reference(tmp_path: Path) -> None:
    """fastMRI references are centre crops (320x320 of 640x368): target, input and output agree."""
    g = torch.Generator().manual_seed(0)
    image = add_smooth_phase(0.5 + torch.rand(2, 24, 20, generator=g), seed=1)
    reference = image.abs()[:, 4:20, 2:18].numpy()  # fastMRI's centre crop to 16x16
    path = write_fastmri(tmp_path / "f.h5", fft2c(image).numpy(), reconstruction_esc=reference)
    vol = scan_file(Path(path))
    assert vol.crop == (16, 16) and vol.scale == pytest.approx(float(reference.max()))
    ds = FastMRIEvalDataset([vol], Simulation(acceleration=1))
    item = ds[1]
    assert item["target"].shape == (1, 16, 16) and item["kspace"].shape == (1, 24, 20)
    np.testing.assert_allclose(item["target"][0].numpy(), reference[1] / reference.max(), rtol=1e-5)
    torch.testing.assert_close(item["input"], item["target"], atol=1e-5, rtol=1e-4)  # fully sampled
    task = KspaceReconstructionTask()
    from recon.config import build_config

    parts = task.setup(build_config(task, "smoke"), None)
    batch = {k: v[None] for k, v in item.items()}
    with torch.no_grad():
        out, _ = parts.generate(parts.generator.eval(), batch)
    torch.testing.assert_close(out, batch["target"], atol=1e-4, rtol=1e-3)  # hard DC, every line sampled


def _reference_log_kernel(sigma: float = 1.5, size: int = 15) -> np.ndarray:
    """MATLAB's fspecial('log', 15, 1.5): the sampled LoG formula, shifted to sum to zero."""
    r = np.arange(size) - size // 2
    x, y = np.meshgrid(r, r)
    g = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    g /= g.sum()
    kernel = g * (x**2 + y**2 - 2 * sigma**2) / sigma**4
    return kernel - kernel.mean()


def test_hfen_against_the_published_definition() -> None:
    rng = np.random.default_rng(0)
    gt = np.zeros((2, 48, 48))
    gt[:, 12:36, 10:30] = 1.0
    gt += 0.05 * rng.random(gt.shape)
    pred = gt + 0.05 * rng.standard_normal(gt.shape)
    kernel = _reference_log_kernel()
    err = np.stack([convolve(p - t, kernel, mode="reflect") for p, t in zip(pred, gt, strict=True)])
    ref = np.stack([convolve(t, kernel, mode="reflect") for t in gt])
    expected = math.sqrt(np.sum(err**2) / np.sum(ref**2))
    assert hfen(gt, pred) == pytest.approx(expected, rel=0.03)
    assert hfen(gt, gt) == 0.0 and hfen(gt, np.zeros_like(gt)) == pytest.approx(1.0)


def test_hfen_weighs_edges_not_smooth_errors() -> None:
    yy, xx = np.mgrid[:64, :64] / 64.0
    gt = ((xx - 0.5) ** 2 + (yy - 0.5) ** 2 < 0.1).astype(float)
    smooth = 0.1 * np.sin(2 * np.pi * xx)  # a low-frequency error
    edges = gt - np.clip(convolve(gt, np.ones((3, 3)) / 9, mode="reflect"), 0, 1)  # a blur's error
    edges *= np.linalg.norm(smooth) / np.linalg.norm(edges)  # the same L2 norm
    assert hfen(gt, gt + edges) > 5 * hfen(gt, gt + smooth)


@pytest.mark.parametrize("coils,overrides", [
    (1, ["model.generator=varnet"]),
    (3, ["model.generator=varnet"]),
    (3, ["model.dc=soft"]),
])
def test_generators_from_the_config(coils: int, overrides: list[str]) -> None:
    from recon.config import build_config

    task = KspaceReconstructionTask()
    small = ["model.cascades=1", "model.varnet_features=[4,4,8,8,16,4]", "model.sens_features=[2,2,4,4,8,2]"]
    cfg = build_config(task, "smoke", overrides=small + overrides)
    sim = Simulation(coils=coils, kind="poisson" if coils == 1 else "equispaced")
    items = [sim.item(im, mask_seed=i, seed=i, full=True) for i, im in enumerate(_images(2))]
    batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    parts = task.setup(cfg, None)
    generator = parts.generator
    fake, aux = parts.generate(generator, batch)
    assert fake.shape == (2, 1, 40, 48) and torch.isfinite(fake).all()
    assert aux["generator_output"].shape == (2, 2, 40, 48)  # the complex image the k-space loss reads
    with pytest.raises(KeyError, match="generator_output"):
        parts.content_loss(batch, fake)  # nothing is kept between calls
    terms = parts.content_loss({**batch, **aux}, fake)
    assert set(terms) == {"l1", "kspace"}
    sum(terms.values()).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in generator.parameters())
