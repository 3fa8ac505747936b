"""SR degradations keep intensities and geometry; each name maps to its core operator, and the
baselines are the operators' pseudo-inverses (the operators themselves: tests/test_physics.py)."""

from __future__ import annotations

import pytest
import torch

from recon.physics import BicubicDownsample, BlurDownsample, KspaceTruncation
from recon_superres import degradations


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("kind", ["blur", "bicubic", "kspace"])
def test_constant_image_keeps_its_value(kind: str, scale: int) -> None:
    image = torch.full((1, 1, 32, 48), 0.7)
    low = degradations.degrade(image, kind, scale, sigma=1.0)
    assert low.shape == (1, 1, 32 // scale, 48 // scale)
    assert torch.allclose(low, torch.full_like(low, 0.7), atol=1e-5)


def test_names_map_to_the_core_operators() -> None:
    assert degradations.make_operator("blur", 4, 1.5) == BlurDownsample(4, 1.5)
    assert degradations.make_operator("bicubic", 2) == BicubicDownsample(2)
    assert degradations.make_operator("kspace", 2, spatial_dims=3) == KspaceTruncation(2, 3)
    with pytest.raises(ValueError, match="3D degradation"):
        degradations.make_operator("bicubic", 2, spatial_dims=3)
    with pytest.raises(ValueError, match="unknown degradation"):
        degradations.make_operator("jpeg", 2)


@pytest.mark.parametrize("scale", [2, 4])
def test_kspace_zero_pad_keeps_a_constant(scale: int) -> None:
    low = torch.full((1, 1, 8, 12), 0.7)
    high = KspaceTruncation(scale).pseudo_inverse(low)
    assert high.shape == (1, 1, 8 * scale, 12 * scale)
    assert torch.allclose(high, torch.full_like(high, 0.7), atol=1e-5)


def test_bicubic_upsample_matches_torch() -> None:
    low = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(1))
    up = degradations.bicubic_upsample(low, 4)
    ref = torch.nn.functional.interpolate(low, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.equal(up, ref) and up.shape == (2, 3, 20, 28)


@pytest.mark.parametrize("degradation,names", [("blur", ["bicubic"]), ("bicubic", ["bicubic"]),
                                               ("kspace", ["bicubic", "zero-padded k-space"])])
def test_task_baselines_are_upsampling_and_the_pseudo_inverse(degradation: str, names: list[str]) -> None:
    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task("mri_superres")
    cfg = build_config(task, "smoke", overrides=[f"data.degradation={degradation}"])
    baselines = task.setup(cfg, None).baselines
    assert list(baselines) == names
    low = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    op = task.operator(cfg)
    assert torch.equal(baselines[names[-1]]({"input": low}), op.pseudo_inverse(low))
