"""Fixtures of the ``mri_motion`` tests: one thread for tiny tensors, shared smoke runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import one_intra_op_thread, plain_and_gan_runs


@pytest.fixture(autouse=True)
def _one_intra_op_thread():
    """Tiny tensors: one intra-op thread (see :func:`tests.conftest.one_intra_op_thread`)."""
    with one_intra_op_thread():
        yield


@pytest.fixture(scope="session")
def motion_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two smoke runs: ``plain`` (L1 only, loss.adversarial=0) and ``gan``, which reports the
    plain one as its non-adversarial comparison (``eval.compare_checkpoint``)."""
    return plain_and_gan_runs("mri_motion", tmp_path_factory.mktemp("motion"))
