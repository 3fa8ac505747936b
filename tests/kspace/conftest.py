"""Fixtures of the ``mri_kspace`` tests: one thread for tiny tensors, shared smoke runs."""

from __future__ import annotations

import pytest

from tests.conftest import one_intra_op_thread, plain_and_gan_runs


@pytest.fixture(autouse=True)
def _one_intra_op_thread():
    """Tiny tensors: one intra-op thread (see :func:`tests.conftest.one_intra_op_thread`)."""
    with one_intra_op_thread():
        yield


@pytest.fixture(scope="session")
def kspace_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``plain`` at 8x with ``loss.adversarial=0`` (3 steps), and ``gan`` at the default 4x,
    which reports ``plain`` as its non-adversarial comparison."""
    return plain_and_gan_runs("mri_kspace", tmp_path_factory.mktemp("kspace"), ("mask.acceleration=8",))
