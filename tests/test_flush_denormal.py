"""``trainer.flush_denormal``: a CPU run treats subnormal floats as zero (they make arithmetic
several times slower; a GAN's weights can drift into that range), unless switched off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# a smoke run in a fresh process, then whether a subnormal float32 still computes as itself
PROBE = ("import sys, torch; from recon.cli.main import main; code = main(sys.argv[1:]); "
         "print('subnormal:', (torch.tensor([1e-40]) * 2).item()); sys.exit(code)")


def _run(tmp_path: Path, *sets: str) -> str:
    args = ["run", "--task", "mri_superres", "--preset", "smoke", "--out", str(tmp_path / "run"),
            "--set", "trainer.progress=false", "--set", "trainer.threads=1", *sets]
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.splitlines()[-1]


def test_a_cpu_run_flushes_subnormals_unless_told_not_to(tmp_path: Path) -> None:
    import torch

    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU has no FTZ/DAZ: torch.set_flush_denormal is a no-op")
    torch.set_flush_denormal(False)  # leave this process as it was
    expected = (torch.tensor([1e-40]) * 2).item()
    assert expected != 0
    assert _run(tmp_path / "on") == "subnormal: 0.0"
    assert _run(tmp_path / "off", "--set", "trainer.flush_denormal=false") == f"subnormal: {expected}"
