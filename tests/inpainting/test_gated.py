"""Gated-convolution inpainting (DeepFill v2): the gated conv, the generator, the SN-PatchGAN,
``model.d_spectral_norm`` on any task's D, and the ``gated`` presets end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from recon.api import SNPatchGANDiscriminator, apply_spectral_norm
from recon_inpainting.networks import GatedConv2d, GatedGenerator
from tests.conftest import SMOKE

GATED_SMOKE = ["--preset", "gated-smoke", "--set", "trainer.progress=false"]


def test_gated_conv_is_elu_of_features_times_sigmoid_of_gate() -> None:
    """1x1 kernel, known weights: feature ``2x - 1``, gate ``3x``; ``y = elu(2x - 1) * sigmoid(3x)``."""
    conv = GatedConv2d(1, 1, kernel_size=1)
    with torch.no_grad():
        conv.conv.weight.copy_(torch.tensor([2.0, 3.0]).reshape(2, 1, 1, 1))
        conv.conv.bias.copy_(torch.tensor([-1.0, 0.0]))
    x = torch.tensor([1.0, -1.0, 0.0, 2.0]).reshape(1, 1, 2, 2)
    expected = [1.0 * (1 / (1 + math.exp(-3))),  # elu(1) = 1
                (math.exp(-3) - 1) * (1 / (1 + math.exp(3))),  # elu(-3) = e^-3 - 1
                (math.exp(-1) - 1) * 0.5,  # elu(-1), sigmoid(0)
                3.0 * (1 / (1 + math.exp(-6)))]
    assert torch.allclose(conv(x).flatten(), torch.tensor(expected), atol=1e-6)


def test_gated_conv_halves_are_the_feature_and_the_gate_convolutions() -> None:
    """3x3, dilation 2, several channels: the first ``out`` outputs of the one convolution are
    ``conv_f``, the rest ``conv_g``; same-size output."""
    torch.manual_seed(0)
    conv = GatedConv2d(3, 4, kernel_size=3, dilation=2)
    x = torch.randn(2, 3, 9, 11)
    w, b = conv.conv.weight, conv.conv.bias
    f = F.conv2d(x, w[:4], b[:4], padding=2, dilation=2)
    g = F.conv2d(x, w[4:], b[4:], padding=2, dilation=2)
    with torch.no_grad():
        assert torch.allclose(conv(x), F.elu(f) * torch.sigmoid(g), atol=1e-6)
    assert GatedConv2d(3, 4, 3, stride=2)(x).shape == (2, 4, 5, 6)


@pytest.mark.parametrize("size", [(32, 32), (37, 50)])
def test_generator_keeps_known_pixels_exactly(size: tuple[int, int]) -> None:
    """Any size (padded to a multiple of 4 inside); after the task's compositing the known pixels
    are the input's bit for bit and the hole is generated."""
    from recon_inpainting.masks import brush_mask
    from recon_inpainting.tasks import composite

    torch.manual_seed(1)
    h, w = size
    net = GatedGenerator(3, width=4).eval()
    image = torch.rand(2, 3, h, w)
    mask = torch.stack([brush_mask(h, w, torch.Generator().manual_seed(i), 4, 8, 0.2) for i in range(2)])
    assert mask.sum() > 0
    batch = {"input": image * (1 - mask), "mask": mask}
    with torch.no_grad():
        raw = net(torch.cat([batch["input"], mask], 1))
        out = composite(net, batch)
    assert raw.shape == out.shape == (2, 3, h, w) and 0 < float(raw.min()) and float(raw.max()) < 1
    known = ~mask.bool().expand_as(image)
    assert torch.equal(out[known], batch["input"][known])
    assert torch.equal(out[~known], raw[~known])


def test_sn_patchgan_shapes_and_spectral_norm() -> None:
    """Every element of the map is a score; every conv is spectrally normalised, and after some
    power iterations (training forwards) the largest singular value of each weight is ~1."""
    torch.manual_seed(2)
    d = SNPatchGANDiscriminator(4, base_channels=8)  # the paper's 6 layers: 64 -> 1
    assert d(torch.rand(2, 4, 64, 64)).shape == (2, 32, 1, 1)
    d4 = SNPatchGANDiscriminator(4, base_channels=8, num_layers=4)
    assert d4(torch.rand(2, 4, 64, 64)).shape == (2, 32, 4, 4)
    assert d4(torch.rand(1, 4, 37, 50)).shape == (1, 32, 3, 4)  # ceil(37/16), ceil(50/16)
    convs = [m for m in d4.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4 and all(parametrize.is_parametrized(c, "weight") for c in convs)
    assert all(c.kernel_size == (5, 5) and c.stride == (2, 2) for c in convs)
    d4.train()
    with torch.no_grad():
        for _ in range(30):
            d4(torch.rand(2, 4, 32, 32))
    d4.eval()
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
        raw = torch.linalg.matrix_norm(conv.parametrizations.weight.original.detach().flatten(1), ord=2)
        assert float(sigma) == pytest.approx(1.0, abs=0.02) and float(raw) != pytest.approx(1.0, abs=0.02)


def test_apply_spectral_norm_is_idempotent_and_refuses_a_module_without_layers() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.LeakyReLU(), nn.Flatten(), nn.Linear(2, 1), nn.BatchNorm1d(1))
    apply_spectral_norm(apply_spectral_norm(net))
    assert parametrize.is_parametrized(net[0], "weight") and parametrize.is_parametrized(net[3], "weight")
    assert len(net[0].parametrizations.weight) == 1  # not normalised twice
    assert not parametrize.is_parametrized(net[4])
    with pytest.raises(ValueError, match="no convolution or linear layer"):
        apply_spectral_norm(nn.Sequential(nn.ReLU()))


def test_arch_gated_selects_the_sn_patchgan_and_hinge_in_the_preset() -> None:
    """``--set model.arch=gated`` on any preset: the gated generator with the SN-PatchGAN (which
    sees the mask); ``d_arch=patchgan`` keeps the PatchGAN; the ``gated`` preset adds hinge loss
    and free-form masks."""
    from recon.api import PatchGANDiscriminator
    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task("inpainting")
    parts = task.setup(build_config(task, "smoke", overrides=["model.arch=gated"]), None)
    assert isinstance(parts.generator, GatedGenerator)
    assert isinstance(parts.discriminator, SNPatchGANDiscriminator)
    batch = {"mask": torch.ones(1, 1, 8, 8)}
    assert parts.discriminator_input(batch, torch.zeros(1, 3, 8, 8)).shape == (1, 4, 8, 8)
    plain = task.setup(build_config(task, "smoke", overrides=["model.arch=gated", "model.d_arch=patchgan"]), None)
    assert isinstance(plain.discriminator, PatchGANDiscriminator)
    cfg = build_config(task, "gated")
    assert (cfg.model.arch, cfg.loss.gan_type, cfg.mask.kind, cfg.mask.fill) == ("gated", "hinge", "mixed", "zero")
    assert cfg.data.patch_size == build_config(task, "default").data.patch_size


@pytest.fixture(scope="module")
def gated_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recon.cli.main import main
    from tests.conftest import one_intra_op_thread

    out = tmp_path_factory.mktemp("gated") / "run"
    with one_intra_op_thread():
        assert main(["run", "--task", "inpainting", *GATED_SMOKE, "--out", str(out)]) == 0
    return out


def test_gated_smoke_run_end_to_end(gated_run: Path) -> None:
    from recon.train.checkpoint import load_checkpoint

    result = json.loads((gated_run / "eval.json").read_text())
    assert {"l1_hole", "st_lpips"} <= set(result["metrics"])
    assert all(math.isfinite(v) for v in result["metrics"].values())
    assert [b["name"] for b in result["baselines"]] == ["biharmonic", "mean fill"]
    state = load_checkpoint(gated_run / "checkpoints" / "last.pt")
    assert state["config"]["model"]["arch"] == "gated"
    assert any(k.endswith("parametrizations.weight.original") for k in state["nets"]["discriminator"])


def test_gated_predict_on_an_odd_size_keeps_known_pixels(cli, gated_run: Path, tmp_path: Path) -> None:
    from PIL import Image

    pixels = np.random.default_rng(3).integers(0, 256, (37, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "p.png")
    hole = np.zeros((37, 50), bool)
    hole[4:20, 10:31] = True
    Image.fromarray((hole * 255).astype(np.uint8)).save(tmp_path / "p_mask.png")
    result = cli("predict", "--checkpoint", gated_run / "checkpoints" / "last.pt", tmp_path / "p.png",
                 "-o", tmp_path / "o.png")
    assert result.code == 0, result.err
    written = np.asarray(Image.open(tmp_path / "o.png").convert("RGB"))
    assert np.array_equal(written[~hole], pixels[~hole]) and not np.array_equal(written[hole], pixels[hole])


def _flatten(tree: object, prefix: str = "") -> dict[str, object]:
    if isinstance(tree, dict):
        out: dict[str, object] = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    if isinstance(tree, (list, tuple)):
        return _flatten(dict(enumerate(tree)), prefix)
    return {prefix: tree}


def test_d_spectral_norm_on_another_task_resumes_bit_exactly(cli, tmp_path: Path) -> None:
    """``model.d_spectral_norm=true`` on mri_superres's D: its weights are parametrized, the
    power-iteration vectors are checkpointed, and 3 + 3 resumed steps equal 6 straight ones."""
    from recon.train.checkpoint import load_checkpoint

    sn = ["--set", "model.d_spectral_norm=true", "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0"]
    assert cli("run", "--task", "mri_superres", *SMOKE, *sn, "--out", tmp_path / "full").code == 0
    part = tmp_path / "part"
    assert cli("run", "--task", "mri_superres", *SMOKE, *sn, "--set", "trainer.max_steps=3", "--out", part).code == 0
    resumed = cli("run", "--task", "mri_superres", "--resume", "--out", part, "--set", "trainer.max_steps=6")
    assert resumed.code == 0, resumed.err
    a = load_checkpoint(tmp_path / "full" / "checkpoints" / "last.pt")
    b = load_checkpoint(part / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 6
    d_keys = list(a["nets"]["discriminator"])
    assert any(k.endswith("weight.0._u") for k in d_keys) and not any(k.endswith(".weight") and "features.0" in k
                                                                       for k in d_keys)
    for group in ("nets", "optim"):
        flat_a, flat_b = _flatten(a[group]), _flatten(b[group])
        assert flat_a.keys() == flat_b.keys()
        for key, value in flat_a.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, flat_b[key]), f"{group}.{key}"
            else:
                assert value == flat_b[key], f"{group}.{key}"
