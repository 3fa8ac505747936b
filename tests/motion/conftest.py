"""Fixtures of the ``mri_motion`` tests: one thread for tiny tensors, shared smoke runs."""

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
def motion_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two smoke runs: ``plain`` (L1 only, loss.adversarial=0) and ``gan``, which reports the
    plain one as its non-adversarial comparison (``eval.compare_checkpoint``)."""
    from recon.cli.main import main

    root = tmp_path_factory.mktemp("motion")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        plain, gan = root / "plain", root / "gan"
        assert main(["run", "--task", "mri_motion", *SMOKE, "--out", str(plain),
                     "--set", "loss.adversarial=0", "--set", "trainer.max_steps=3"]) == 0
        assert main(["run", "--task", "mri_motion", *SMOKE, "--out", str(gan),
                     "--set", f"eval.compare_checkpoint={plain / 'checkpoints' / 'last.pt'}"]) == 0
    finally:
        torch.set_num_threads(before)
    return {"plain": plain, "gan": gan}
