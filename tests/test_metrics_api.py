"""The public surface of recon.metrics: every name resolves, the stub agrees, imports stay lazy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import recon.metrics as metrics

PUBLIC = ["psnr", "ssim", "nmse", "rgb_to_y", "CONVENTIONS", "image_metrics", "LPIPS",
          "lpips", "lpips_status", "frechet_distance", "fid_from_features", "kid",
          "inception_score", "InceptionFeatureExtractor", "inception_status",
          "FeatureStatsCache", "STLPIPS", "st_lpips", "st_lpips_status", "patch_distribution"]


def test_public_names_resolve() -> None:
    for name in PUBLIC:
        assert name in metrics.__all__
        assert getattr(metrics, name) is not None
    assert callable(metrics.kid) and callable(metrics.lpips)  # functions, not submodules


def test_type_stub_matches_exports() -> None:
    stub = Path(metrics.__file__).with_suffix(".pyi")
    tree = ast.parse(stub.read_text())
    stub_all = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                    and node.targets[0].id == "__all__")
    assert sorted(ast.literal_eval(stub_all)) == sorted(metrics.__all__)


def test_imports_are_lazy() -> None:
    code = ("import sys, recon; assert 'torch' not in sys.modules, 'recon imported torch'; "
            "import recon.metrics; heavy = [m for m in ('torch', 'torchvision', 'lpips', 'kornia') "
            "if m in sys.modules]; assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
