"""Fixtures of the ``inpainting`` tests: one thread for tiny tensors, a shared smoke run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SMOKE, one_intra_op_thread


@pytest.fixture(autouse=True)
def _one_intra_op_thread():
    """Tiny tensors: one intra-op thread (see :func:`tests.conftest.one_intra_op_thread`)."""
    with one_intra_op_thread():
        yield


@pytest.fixture(scope="session")
def inpaint_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished ``recon run --task inpainting --preset smoke`` shared by read-only tests."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("inpainting") / "run"
    with one_intra_op_thread():
        assert main(["run", "--task", "inpainting", *SMOKE, "--out", str(out)]) == 0
    return out
