"""LPIPS plumbing (random backbone, labelled), offline weight handling and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("lpips", reason="the lpips package is not installed")

from recon.errors import UsageError, WeightsUnavailableError  # noqa: E402
from recon.metrics import LPIPS, lpips, lpips_status  # noqa: E402
from recon.metrics.perceptual import BACKBONE_FILES, RANDOM_LABEL  # noqa: E402
from tests.conftest import one_intra_op_thread  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Correctness tests only: one intra-op thread (seconds per Inception forward instead of
    0.3 s when other jobs share the CPU)."""
    with one_intra_op_thread():
        yield


@pytest.fixture(scope="module")
def random_lpips() -> LPIPS:
    torch.manual_seed(0)
    return LPIPS("alex", allow_random=True)


def _alexnet_features_file(path: Path) -> dict[str, torch.Tensor]:
    """A torchvision-layout AlexNet state dict (features only, random values)."""
    from torchvision.models import alexnet

    torch.manual_seed(1)
    full = alexnet(weights=None).state_dict()
    state = {k: v for k, v in full.items() if k.startswith("features.")}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


def test_random_backbone_is_labelled_and_identical_is_zero(random_lpips: LPIPS) -> None:
    assert random_lpips.label == RANDOM_LABEL
    assert "NOT comparable" in random_lpips.label
    x = torch.rand(3, 3, 48, 48)
    d = random_lpips(x, x)
    assert d.shape == (3,)
    assert torch.allclose(d, torch.zeros(3), atol=1e-7)
    y = (x + 0.2 * torch.randn_like(x)).clamp(0, 1)
    assert (random_lpips(x, y) > 0).all()


def test_gray_is_repeated_to_three_channels(random_lpips: LPIPS) -> None:
    g = torch.rand(2, 1, 40, 40)
    h = torch.rand(2, 1, 40, 40)
    rgb = random_lpips(g.repeat(1, 3, 1, 1), h.repeat(1, 3, 1, 1))
    assert torch.allclose(random_lpips(g, h), rgb)


def test_inputs_scaled_to_minus_one_one(random_lpips: LPIPS) -> None:
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    raw = random_lpips.model(x * 2 - 1, y * 2 - 1).flatten()
    assert torch.allclose(random_lpips(x, y), raw)


def test_differentiable_for_use_as_a_loss(random_lpips: LPIPS) -> None:
    x = torch.rand(2, 3, 32, 32)
    y = torch.rand(2, 3, 32, 32, requires_grad=True)
    random_lpips(x, y).sum().backward()
    assert y.grad is not None and torch.isfinite(y.grad).all()


def test_stays_deterministic_in_train_mode(random_lpips: LPIPS) -> None:
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    expected = random_lpips(x, y)
    random_lpips.train()
    try:
        assert not random_lpips.model.training
        assert torch.equal(random_lpips(x, y), expected)
    finally:
        random_lpips.eval()


def test_bad_inputs(random_lpips: LPIPS) -> None:
    x = torch.rand(2, 3, 32, 32)
    with pytest.raises(UsageError, match="shapes differ"):
        random_lpips(x, x[:1])
    with pytest.raises(UsageError, match=r"\(N, C, H, W\)"):
        random_lpips(x[0], x[0])
    bad = x.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(UsageError, match="NaN"):
        random_lpips(x, bad)
    with pytest.raises(UsageError, match="unknown LPIPS net"):
        LPIPS("squeezenet", allow_random=True)


def test_missing_backbone_names_file_and_directory(empty_torch_home: Path) -> None:
    with pytest.raises(WeightsUnavailableError) as info:
        LPIPS("alex")
    message = str(info.value)
    assert BACKBONE_FILES["alex"] in message and str(empty_torch_home) in message
    assert issubclass(WeightsUnavailableError, UsageError)  # -> CLI exit code 2
    ok, reason = lpips_status("alex")
    assert not ok and BACKBONE_FILES["alex"] in reason
    ok, reason = lpips_status("vgg")
    assert not ok and BACKBONE_FILES["vgg"] in reason
    with pytest.raises(WeightsUnavailableError, match="nowhere.pth"):
        LPIPS("alex", backbone_path=empty_torch_home / "nowhere.pth")


def test_backbone_loaded_from_torch_home(empty_torch_home: Path) -> None:
    state = _alexnet_features_file(empty_torch_home / BACKBONE_FILES["alex"])
    ok, where = lpips_status("alex")
    assert ok and where.endswith(BACKBONE_FILES["alex"])
    model = LPIPS("alex")
    assert model.label == "lpips-v0.1-alex"
    trunk = model.model.net.state_dict()
    assert torch.equal(trunk["slice1.0.weight"], state["features.0.weight"])
    assert torch.equal(trunk["slice5.10.bias"], state["features.10.bias"])
    x = torch.rand(2, 3, 32, 32)
    path = str(empty_torch_home / BACKBONE_FILES["alex"])
    assert lpips(x, x, backbone_path=path) == pytest.approx(0.0, abs=1e-7)


def test_wrong_backbone_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "not_alexnet.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, path)
    with pytest.raises(UsageError, match="not a torchvision backbone"):
        LPIPS("alex", backbone_path=path)


def test_backbone_file_names_match_torchvision() -> None:
    from torchvision.models import AlexNet_Weights, VGG16_Weights

    assert AlexNet_Weights.IMAGENET1K_V1.url.endswith("/" + BACKBONE_FILES["alex"])
    assert VGG16_Weights.IMAGENET1K_V1.url.endswith("/" + BACKBONE_FILES["vgg"])
