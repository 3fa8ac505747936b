"""Fixtures of the ``inpainting`` tests: one thread for tiny tensors, a shared smoke run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]


@pytest.fixture(autouse=True)
def _one_intra_op_thread():
    """Tiny tensors: one intra-op thread avoids OpenMP spin-waits on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def inpaint_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished ``recon run --task inpainting --preset smoke`` shared by read-only tests."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("inpainting") / "run"
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["run", "--task", "inpainting", *SMOKE, "--out", str(out)]) == 0
    finally:
        torch.set_num_threads(before)
    return out
