"""ST-LPIPS: recon's networks against the stlpips-pytorch package's own model, offline
weight lookup, bad input, and gradients for its use as a loss."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from recon.errors import UsageError, WeightsUnavailableError
from recon.metrics.st_lpips import NETS, STLPIPS, st_lpips, st_lpips_status, st_lpips_weights_path
from tests.conftest import one_intra_op_thread


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    with one_intra_op_thread():
        yield


def _pairs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs a metric must rank: noise, blur, a 1-pixel shift, gray images of odd sizes."""
    g = torch.Generator().manual_seed(0)
    rgb = torch.rand(3, 3, 64, 80, generator=g)
    noisy = (rgb + 0.1 * torch.randn(rgb.shape, generator=g)).clamp(0, 1)
    blurred = torch.nn.functional.avg_pool2d(rgb, 3, 1, 1, count_include_pad=False)
    gray = torch.rand(2, 1, 45, 53, generator=g)
    return [(rgb, noisy), (rgb, blurred), (rgb, torch.roll(rgb, 1, dims=-1)), (gray, gray.flip(-1))]


@pytest.mark.parametrize("net", NETS)
def test_values_match_the_stlpips_package(net: str) -> None:
    """The package's model (imported here: it needs IPython and torchsummary, dev extras)
    and recon's own definition give the same distances to float precision."""
    from stlpips_pytorch import stlpips

    reference = stlpips.LPIPS(net=net, variant="shift_tolerant", verbose=False).eval()
    ours = STLPIPS(net)
    for gt, pred in _pairs():
        with torch.no_grad():
            expected = reference(gt, pred, normalize=True).flatten()  # [0,1] inputs, mapped to [-1,1]
            if gt.shape[1] == 1:
                expected = reference(gt.repeat(1, 3, 1, 1), pred.repeat(1, 3, 1, 1), normalize=True).flatten()
            got = ours(gt, pred)
        assert got.shape == (gt.shape[0],)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-7)


def test_weights_are_found_without_importing_the_package() -> None:
    code = ("import sys; from recon.metrics.st_lpips import STLPIPS, st_lpips_weights_path; "
            "m = STLPIPS('alex'); print(st_lpips_weights_path('alex')); "
            "print('stlpips_pytorch' in sys.modules, 'IPython' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    path, imported, ipython = proc.stdout.split()
    assert path.endswith("stlpips_pytorch/weights/vST0.0/alex_shift_tolerant.pth")
    assert (imported, ipython) == ("False", "False")
    assert proc.stderr == ""  # nothing printed on load


def test_identity_is_zero_and_degradations_rank() -> None:
    model = STLPIPS("alex")
    x = torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(model(x, x), torch.zeros(2), atol=1e-7)
    light = torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    heavy = torch.nn.functional.avg_pool2d(x, 7, 1, 3, count_include_pad=False)
    assert (model(x, light) < model(x, heavy)).all()
    assert st_lpips(x, light) == pytest.approx(float(model(x, light).mean()))


def test_gradients_flow_to_the_prediction_only() -> None:
    model = STLPIPS("vgg")
    target = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(2))
    pred = (target + 0.05).clamp(0, 1).requires_grad_(True)
    model(target, pred).sum().backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())
    model.train()
    assert not model.training  # a fixed metric stays in eval mode inside a training model


@pytest.mark.parametrize("gt, pred, message", [
    (torch.rand(2, 2, 64, 64), torch.rand(2, 2, 64, 64), "C in {1, 3}"),
    (torch.rand(1, 3, 16, 64), torch.rand(1, 3, 16, 64), "at least 32x32"),
    (torch.rand(1, 3, 64, 64), torch.full((1, 3, 64, 64), float("nan")), "NaN"),
    (torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 48), "shapes differ"),
])
def test_bad_inputs_are_usage_errors(gt: torch.Tensor, pred: torch.Tensor, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        STLPIPS("alex")(gt, pred)


def test_missing_or_wrong_weights_are_clear_errors(tmp_path) -> None:
    assert st_lpips_status("alex")[0] and st_lpips_weights_path("alex") is not None
    assert st_lpips_status("squeeze") == (False, "unknown ST-LPIPS net 'squeeze'; valid: alex, vgg")
    with pytest.raises(WeightsUnavailableError, match="not found"):
        STLPIPS("alex", weights_path=tmp_path / "missing.pth")
    vgg_file = st_lpips_weights_path("vgg")
    with pytest.raises(UsageError, match="does not hold ST-LPIPS alex weights"):
        STLPIPS("alex", weights_path=vgg_file)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(UsageError, match="cannot read ST-LPIPS weights"):
        STLPIPS("alex", weights_path=junk)
