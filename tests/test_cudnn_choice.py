"""``cudnn.benchmark`` is chosen for CUDA runs on fixed-size patches and never touched on CPU."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from recon.train import cudnn


def _cfg(patch_size: object) -> SimpleNamespace:
    return SimpleNamespace(data=SimpleNamespace(patch_size=patch_size))


@pytest.mark.parametrize(("device", "patch", "expected"), [
    ("cuda", 64, True), ("cuda", [32, 32, 16], True), ("cuda", 0, False), ("cuda", [64, 0], False),
    ("cpu", 64, False),
])
def test_benchmark_only_for_cuda_with_fixed_patches(device: str, patch: object, expected: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cudnn.ENV, raising=False)
    assert cudnn.wants_benchmark(torch.device(device), _cfg(patch)) is expected


def test_environment_overrides_on_cuda_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cudnn.ENV, "0")
    assert not cudnn.wants_benchmark(torch.device("cuda"), _cfg(64))
    monkeypatch.setenv(cudnn.ENV, "1")
    assert cudnn.wants_benchmark(torch.device("cuda"), _cfg(0))
    assert not cudnn.wants_benchmark(torch.device("cpu"), _cfg(64))


def test_cpu_runs_leave_the_flag_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    monkeypatch.setenv(cudnn.ENV, "1")
    cudnn.configure(torch.device("cpu"), _cfg(64))
    assert torch.backends.cudnn.benchmark is False
