"""Shared fixtures: run the CLI in-process or as a subprocess, make small data files."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

os.environ.setdefault("RECON_TEST", "1")


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture) -> "callable":
    """Run ``recon ARGS`` in this process; returns exit code, stdout and stderr."""
    from recon.cli.main import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_subprocess(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 300) -> Result:
    """Run ``python -m recon ARGS`` in a fresh interpreter."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "recon", *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def subprocess_cli() -> "callable":
    return run_subprocess


def write_nifti(path: Path, array: np.ndarray, affine: np.ndarray | None = None) -> Path:
    import nibabel as nib

    nib.save(nib.Nifti1Image(array.astype(np.float32), np.eye(4) if affine is None else affine), str(path))
    return path


def phantom_volume(shape: tuple[int, int, int] = (48, 48, 40), seed: int = 0) -> np.ndarray:
    """A smooth synthetic 'head': nested ellipsoids plus a little texture, values >= 0."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    r = sum((g / s) ** 2 for g, s in zip(grids, (0.8, 0.9, 0.85), strict=True))
    vol = (r < 1).astype(np.float32) * 0.6 + (r < 0.5).astype(np.float32) * 0.3
    vol += 0.05 * rng.standard_normal(shape).astype(np.float32) * (r < 1)
    return np.clip(vol, 0, None)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished ``recon run --task mri_superres --preset smoke`` shared by read-only tests."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("smoke") / "run"
    assert main(["run", "--task", "mri_superres", "--preset", "smoke", "--out", str(out),
                 "--set", "trainer.progress=false"]) == 0
    return out


SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]


@contextlib.contextmanager
def one_intra_op_thread() -> Iterator[None]:
    """Tiny tensors: one intra-op thread avoids OpenMP spin-waits on a busy 2-core machine
    (measured: a tiny VarNet step took 14 s with 2 threads under load, 0.09 s with 1)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def plain_and_gan_runs(task: str, root: Path, plain_extra: tuple[str, ...] = ()) -> dict[str, Path]:
    """Two smoke runs of ``task`` under ``root``: ``plain`` (``loss.adversarial=0``, 3 steps, plus
    ``plain_extra`` settings) and ``gan``, which reports ``plain`` as its non-adversarial
    comparison (``eval.compare_checkpoint``)."""
    from recon.cli.main import main

    plain, gan = root / "plain", root / "gan"
    sets = [a for s in ("loss.adversarial=0", "trainer.max_steps=3", *plain_extra) for a in ("--set", s)]
    with one_intra_op_thread():
        assert main(["run", "--task", task, *SMOKE, "--out", str(plain), *sets]) == 0
        assert main(["run", "--task", task, *SMOKE, "--out", str(gan),
                     "--set", f"eval.compare_checkpoint={plain / 'checkpoints' / 'last.pt'}"]) == 0
    return {"plain": plain, "gan": gan}


@pytest.fixture()
def empty_torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``TORCH_HOME`` pointed at an empty folder; returns where hub checkpoints would go."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path / "hub" / "checkpoints"
