"""Mask generators, hole filling and composition, the biharmonic baseline, the hole error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.restoration import inpaint_biharmonic

from recon.physics import biharmonic, pull_push
from recon_inpainting.baselines import l1_hole
from recon_inpainting.fill import apply_mask, composite
from recon_inpainting.masks import MaskConfig, brush_mask, center_mask, make_mask, rectangles_mask


def _rng(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("h,w,size,box", [
    (128, 128, 0.5, (32, 96, 32, 96)),  # Pathak: the 64x64 centre of a 128x128 image
    (64, 48, 0.25, (24, 40, 18, 30)),
    (31, 31, 0.5, (7, 23, 7, 23)),  # 15.5 rounds up to 16
])
def test_center_square_geometry(h: int, w: int, size: float, box: tuple[int, int, int, int]) -> None:
    mask = center_mask(h, w, size)
    top, bottom, left, right = box
    expected = torch.zeros(1, h, w)
    expected[:, top:bottom, left:right] = 1
    assert torch.equal(mask, expected)


@pytest.mark.parametrize("kind", ["center", "rectangles", "brush", "mixed"])
def test_masks_are_binary_and_reproducible_per_seed(kind: str) -> None:
    cfg = MaskConfig(kind=kind)
    a, b = make_mask(cfg, 64, 64, _rng(5)), make_mask(cfg, 64, 64, _rng(5))
    assert a.shape == (1, 64, 64) and a.dtype == torch.float32
    assert set(a.unique().tolist()) <= {0.0, 1.0} and a.sum() > 0 and a.mean() < 1
    assert torch.equal(a, b)
    if kind != "center":
        others = [make_mask(cfg, 64, 64, _rng(s)) for s in range(6, 10)]
        assert any(not torch.equal(a, o) for o in others)


def test_rectangle_areas_within_bounds() -> None:
    for seed in range(20):
        mask = rectangles_mask(100, 80, _rng(seed), max_size=0.4, min_size=0.2, count=3)
        area = int(mask.sum())
        assert 20 * 16 <= area <= 3 * 40 * 32  # at least one smallest, at most three largest
    single = rectangles_mask(100, 80, _rng(0), max_size=0.3, min_size=0.3, count=1)
    assert int(single.sum()) == 30 * 24


def test_brush_strokes_bounded_by_width_and_count() -> None:
    areas = []
    for seed in range(20):
        mask = brush_mask(64, 64, _rng(seed), strokes=2, max_vertices=4, brush_width=0.1)
        areas.append(float(mask.mean()))
    # two strokes of four segments of <= 0.25 * 64 px drawn <= 6.4 px wide: well under half the image
    assert 0 < min(areas) and max(areas) < 0.5
    wide = np.mean([float(brush_mask(64, 64, _rng(s), 4, 8, 0.3).mean()) for s in range(10)])
    assert wide > np.mean(areas)  # wider brushes, more strokes: larger holes


def test_zero_and_mean_fill() -> None:
    image = torch.rand(2, 3, 16, 16)
    mask = center_mask(16, 16, 0.5).expand(2, 1, 16, 16)
    zero = apply_mask(image, mask, "zero")
    assert torch.all(zero[mask.expand_as(zero).bool()] == 0)
    mean = apply_mask(image, mask, "mean")
    known = ~mask.bool()[:, 0]
    expected = torch.stack([torch.stack([image[n, c][known[n]].mean() for c in range(3)]) for n in range(2)])
    assert torch.allclose(mean[:, :, 8, 8], expected, atol=1e-6)
    for filled in (zero, mean):
        assert torch.equal(filled[~mask.expand_as(filled).bool()], image[~mask.expand_as(image).bool()])


def test_smooth_fill_interpolates_from_the_known_pixels() -> None:
    image = torch.rand(2, 3, 40, 36)
    mask = torch.stack([center_mask(40, 36, 0.5), make_mask(MaskConfig(kind="brush"), 40, 36, _rng(2))])
    filled = apply_mask(image, mask, "smooth")
    known = ~mask.bool().expand_as(image)
    assert torch.equal(filled[known], image[known])
    for n in range(2):  # averages and bilinear weights: a convex combination of known pixels
        for c in range(3):
            values = image[n, c][known[n, c]]
            inside = filled[n, c][~known[n, c]]
            assert values.min() <= inside.min() and inside.max() <= values.max()
    flat = torch.full((1, 1, 33, 33), 0.3)
    assert torch.allclose(pull_push(flat * (1 - center_mask(33, 33, 0.6)[None]), 1 - center_mask(33, 33, 0.6)[None]),
                          flat, atol=1e-6)
    ramp = torch.linspace(0, 1, 64).repeat(64, 1)[None, None]  # a smooth image is filled closely
    hole = center_mask(64, 64, 0.25)[None]
    error = (apply_mask(ramp, hole, "smooth") - ramp).abs()[hole.bool()].mean()
    assert error < 0.05 < (apply_mask(ramp, hole, "mean") - ramp).abs()[hole.bool()].mean()


def test_biharmonic_fill_is_the_biharmonic_baseline() -> None:
    image = torch.rand(2, 3, 32, 32)
    mask = torch.stack([center_mask(32, 32, 0.5), make_mask(MaskConfig(kind="brush"), 32, 32, _rng(3))])
    filled = apply_mask(image, mask, "biharmonic")
    assert torch.equal(filled, biharmonic(image, mask))
    known = ~mask.bool().expand_as(image)
    assert torch.equal(filled[known], image[known])
    assert torch.equal(apply_mask(image[0], mask[0], "biharmonic"), filled[0])  # unbatched alike
    ramp = torch.linspace(0, 1, 64).repeat(64, 1)[None, None]  # linear: biharmonic is exact
    hole = center_mask(64, 64, 0.25)[None]
    assert (apply_mask(ramp, hole, "biharmonic") - ramp).abs().max() < 1e-4


def test_composition_keeps_known_pixels_exactly() -> None:
    target = torch.rand(3, 3, 20, 20)
    mask = torch.stack([make_mask(MaskConfig(kind="mixed"), 20, 20, _rng(s)) for s in range(3)])
    inputs = apply_mask(target, mask, "mean")
    generated = torch.rand(3, 3, 20, 20) * 7 - 3  # anything, even out of range
    out = composite(generated, mask, inputs)
    known = ~mask.bool().expand_as(out)
    assert torch.equal(out[known], target[known])
    assert torch.equal(out[~known], generated[~known])


def test_task_generate_composites_the_generator_output() -> None:
    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task("inpainting")
    cfg = build_config(task, "smoke")
    parts = task.setup(cfg, None)
    batch = task.build_dataset(cfg, "train")[3]
    batch = {k: v[None] for k, v in batch.items()}
    with torch.no_grad():
        out = parts.generate(parts.generator.eval(), batch)
    known = ~batch["mask"].bool().expand_as(out)
    assert torch.equal(out[known], batch["target"][known])


@pytest.mark.parametrize("channels", [1, 3])
def test_biharmonic_equals_skimage(channels: int) -> None:
    rng = np.random.default_rng(0)
    image = rng.random((channels, 12, 10))
    hole = np.zeros((12, 10), bool)
    hole[3:7, 2:6] = True
    hole[9, 8] = True
    if channels == 3:
        expected = inpaint_biharmonic(image.transpose(1, 2, 0), hole, channel_axis=-1).transpose(2, 0, 1)
    else:
        expected = inpaint_biharmonic(image[0], hole)[None]
    masked = torch.from_numpy(image * ~hole)[None]
    out = biharmonic(masked, torch.from_numpy(hole.astype(np.float64))[None, None])
    assert out.dtype == torch.float64 and out.shape == (1, channels, 12, 10)
    assert np.allclose(out[0].numpy(), expected, atol=1e-12)


def test_l1_hole_is_the_mean_error_inside_the_hole() -> None:
    pred, target = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    mask = torch.zeros(2, 1, 8, 8)
    mask[0, :, 2:5, 2:6] = 1
    mask[1, :, 0, 0] = 1
    hole = mask.bool().expand_as(pred)
    expected = [float((pred[i] - target[i]).abs()[hole[i]].mean()) for i in range(2)]
    assert l1_hole(pred, target, mask).tolist() == pytest.approx(expected, rel=1e-6)
