"""``trainer.flush_denormal``: a CPU run treats subnormal floats as zero while it trains (they
make arithmetic several times slower; a GAN's weights can drift into that range), restores
the process's IEEE arithmetic afterwards, and leaves it alone when switched off."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from recon.train.runtime import flushing_subnormals, subnormals_flushed


def _has_ftz() -> bool:
    supported = torch.set_flush_denormal(True)
    torch.set_flush_denormal(False)
    return supported


def test_the_block_flushes_subnormals_and_restores_the_state() -> None:
    if not _has_ftz():
        pytest.skip("this CPU has no FTZ/DAZ: torch.set_flush_denormal is a no-op")
    tiny = torch.tensor([1e-40]) * 2
    assert not subnormals_flushed() and tiny.item() != 0
    with flushing_subnormals(True):
        assert subnormals_flushed() and (torch.tensor([1e-40]) * 2).item() == 0
    assert not subnormals_flushed()
    with flushing_subnormals(False):
        assert not subnormals_flushed()


@pytest.mark.parametrize("flush", [True, False])
def test_a_cpu_run_trains_with_subnormals_flushed_unless_told_not_to(flush: bool, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from recon.cli.main import main

    if not _has_ftz():
        pytest.skip("this CPU has no FTZ/DAZ: torch.set_flush_denormal is a no-op")
    calls: list[bool] = []
    real = torch.set_flush_denormal
    monkeypatch.setattr(torch, "set_flush_denormal", lambda mode: calls.append(mode) or real(mode))
    assert main(["run", "--task", "mri_superres", "--preset", "smoke", "--out", str(tmp_path / "run"),
                 "--set", "trainer.progress=false", "--set", f"trainer.flush_denormal={str(flush).lower()}"]) == 0
    assert calls == ([True, False] if flush else [])  # on for the training, then the state before
    assert not subnormals_flushed()  # the process keeps IEEE arithmetic afterwards
