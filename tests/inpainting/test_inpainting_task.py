"""``inpainting`` end to end: eval.json with both baselines and l1_hole, predict, config errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from recon_inpainting.networks import ContextEncoder


def test_eval_json_has_both_baselines_and_l1_hole(inpaint_run: Path) -> None:
    result = json.loads((inpaint_run / "eval.json").read_text())
    assert result["task"] == "inpainting" and result["split"] == "test" and result["n_images"] == 4
    assert result["conventions"]["name"] == "sr" and result["conventions"]["crop_border"] == 0
    assert "l1_hole" in result["conventions"]
    assert result["baseline"]["name"] == "biharmonic"
    assert [b["name"] for b in result["baselines"]] == ["biharmonic", "mean fill"]
    for entry in [result, *result["baselines"]]:
        assert set(entry["metrics"]) >= {"psnr", "ssim", "nmse", "l1_hole"}
    biharmonic, mean = (b["metrics"] for b in result["baselines"])
    assert biharmonic["l1_hole"] < mean["l1_hole"]  # interpolation beats a flat colour


def test_mean_fill_hole_error_is_the_distance_to_the_known_mean(inpaint_run: Path) -> None:
    """The ``mean fill`` row fills each hole with its image's per-channel mean of the known pixels,
    whatever ``mask.fill`` the network input has (the smoke preset's is ``zero``)."""
    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task("inpainting")
    cfg = build_config(task, "smoke")
    assert cfg.mask.fill == "zero"
    dataset = task.build_dataset(cfg, "test")
    values = []
    for i in range(4):
        item = dataset[i]
        target, hole = item["target"].double(), item["mask"].bool()[0]
        mean = target[:, ~hole].mean(dim=1, keepdim=True)
        values.append(float((target[:, hole] - mean).abs().mean()))
    result = json.loads((inpaint_run / "eval.json").read_text())
    assert result["baselines"][1]["name"] == "mean fill"
    assert result["baselines"][1]["metrics"]["l1_hole"] == pytest.approx(np.mean(values), rel=1e-5)


def _png(path: Path, array: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(array).save(path)
    return path


@pytest.mark.parametrize("with_mask", [False, True])
def test_predict_writes_png_of_the_right_size(cli, inpaint_run: Path, tmp_path: Path, with_mask: bool) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (37, 50, 3), dtype=np.uint8)
    source = _png(tmp_path / "photo.png", pixels)
    hole = np.zeros((37, 50), bool)
    hole[5:12, 30:44] = True
    if with_mask:  # beside the input
        _png(tmp_path / "photo_mask.png", (hole * 255).astype(np.uint8))
        given = []
    else:  # elsewhere, named with --mask
        _png(tmp_path / "hole.png", (hole * 255).astype(np.uint8))
        given = ["--mask", tmp_path / "hole.png"]
    out = tmp_path / "filled.png"
    result = cli("predict", "--checkpoint", inpaint_run / "checkpoints" / "last.pt", source, "-o", out, *given)
    assert result.code == 0, result.err
    written = np.asarray(Image.open(out).convert("RGB"))
    assert written.shape == pixels.shape
    assert np.array_equal(written[~hole], pixels[~hole])  # known pixels copied exactly
    assert not np.array_equal(written[hole], pixels[hole])  # the hole was regenerated


def test_predict_refuses_a_mask_of_another_size(cli, inpaint_run: Path, tmp_path: Path) -> None:
    source = _png(tmp_path / "photo.png", np.full((20, 20, 3), 100, np.uint8))
    _png(tmp_path / "photo_mask.png", np.full((10, 20), 255, np.uint8))
    result = cli("predict", "--checkpoint", inpaint_run / "checkpoints" / "last.pt", source, "-o", tmp_path / "o.png")
    assert result.code == 2 and "mask is 10x20" in result.err


@pytest.mark.parametrize("setting,word", [
    ("mask.size=0", "mask.size"),
    ("mask.size=1.5", "mask.size"),
    ("mask.min_size=0.9", "mask.min_size"),
    ("mask.count=0", "mask.count"),
    ("mask.kind=circle", "mask.kind"),
    ("data.channels=2", "data.channels"),
    ("model.arch=context_encoder", "data.patch_size"),  # smoke patches (32) are fine; 48 is not
])
def test_bad_mask_and_data_values_are_config_errors(cli, tmp_path: Path, setting: str, word: str) -> None:
    extra = ["--set", "data.patch_size=48"] if setting.startswith("model.arch") else []
    result = cli("run", "--task", "inpainting", "--preset", "smoke", "--out", tmp_path / "run",
                 "--set", setting, *extra)
    assert result.code == 2, result.err
    assert word in result.err and len(result.err.strip().splitlines()) == 1


def test_context_encoder_shapes() -> None:
    net = ContextEncoder(channels=3, size=64, width=8, bottleneck=32).eval()
    with torch.no_grad():
        out = net(torch.rand(2, 4, 64, 64))
    assert out.shape == (2, 3, 64, 64) and 0 <= float(out.min()) and float(out.max()) <= 1
    with pytest.raises(ValueError, match="64x64"):
        net(torch.rand(1, 4, 32, 32))


def test_eval_on_the_users_images(cli, inpaint_run: Path, tmp_path: Path) -> None:
    """``recon eval --data``: holes are cut in the user's clean images, every image is scored."""
    rng = np.random.default_rng(1)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        _png(folder / f"p{i}.png", rng.integers(0, 256, (40, 44, 3), dtype=np.uint8))
    out = tmp_path / "eval.json"
    result = cli("eval", "--checkpoint", inpaint_run / "checkpoints" / "last.pt", "--data", folder, "--json", out)
    assert result.code == 0, result.err
    report = json.loads(out.read_text())
    assert report["n_images"] == 4  # eval.max_images of the smoke preset (2 images x 2 patches)
    assert [b["name"] for b in report["baselines"]] == ["biharmonic", "mean fill"]
    assert "l1_hole" in report["metrics"]


def test_residual_unet_starts_as_the_fill() -> None:
    """``model.residual``: the untrained U-Net returns its pre-filled input, so training starts
    from the fill (e.g. ``mask.fill=smooth``) and learns a correction; any size works."""
    from recon_inpainting.networks import InpaintUNet

    net = InpaintUNet(3, (4, 4, 8, 8, 16, 4), residual=True).eval()
    x = torch.rand(2, 4, 37, 50)
    with torch.no_grad():
        assert torch.equal(net(x), x[:, :3])
    plain = InpaintUNet(3, (4, 4, 8, 8, 16, 4)).eval()
    with torch.no_grad():
        assert plain(x).shape == (2, 3, 37, 50) and not torch.allclose(plain(x), x[:, :3])


def test_predict_uses_the_configured_fill(tmp_path: Path) -> None:
    """With ``mask.fill=smooth`` and an untrained residual U-Net, predict returns the fill itself."""
    from PIL import Image

    from recon.config import build_config
    from recon.plugins import get_task
    from recon_inpainting.fill import apply_mask
    from recon_inpainting.masks import center_mask

    task = get_task("inpainting")
    cfg = build_config(task, "smoke", overrides=["mask.fill=smooth", "model.residual=true"])
    parts = task.setup(cfg, None)
    parts.generator.eval()
    pixels = np.random.default_rng(2).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    _png(tmp_path / "p_mask.png", (center_mask(30, 40, cfg.mask.size)[0].numpy() * 255).astype(np.uint8))
    out = task.predict_file(cfg, parts, _png(tmp_path / "p.png", pixels), tmp_path / "o.png",
                            torch.device("cpu"))
    image = torch.from_numpy(pixels.transpose(2, 0, 1).astype(np.float32) / 255)
    expected = apply_mask(image, center_mask(30, 40, cfg.mask.size), "smooth").clamp(0, 1)
    written = np.asarray(Image.open(out).convert("RGB")).transpose(2, 0, 1)
    assert np.array_equal(written, (expected.numpy() * 255).round().astype(np.uint8))
