"""Fixtures of the ``mri_progression`` tests: one thread, a shared smoke run, a small manifest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SMOKE, one_intra_op_thread, write_nifti


@pytest.fixture(autouse=True)
def _one_intra_op_thread():
    with one_intra_op_thread():
        yield


@pytest.fixture(scope="session")
def progression_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished ``recon run --task mri_progression --preset smoke`` (read-only for the tests)."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("progression") / "run"
    with one_intra_op_thread():
        assert main(["run", "--task", "mri_progression", *SMOKE, "--out", str(out)]) == 0
    return out


def blob_scan(shape: tuple[int, int], shrink: float = 0.0, seed: int = 0) -> np.ndarray:
    """A 2D 'brain': a bright ellipse with a dark central 'ventricle' that grows with ``shrink``."""
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(np.linspace(-1, 1, shape[0]), np.linspace(-1, 1, shape[1]), indexing="ij")
    r = (y / 0.8) ** 2 + (x / 0.7) ** 2
    image = np.where(r < 1 - 0.1 * shrink, 0.8, 0.0) - np.where(r < 0.08 * (1 + shrink), 0.5, 0.0)
    return np.clip(image + 0.01 * rng.standard_normal(shape), 0, 1).astype(np.float32)


@pytest.fixture(scope="session")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``visits.csv``: 6 subjects, 2 follow-ups each (NIfTI, 40x48x1), relative paths."""
    root = tmp_path_factory.mktemp("visits")
    lines = ["subject,baseline,followup,years,group"]
    for s in range(6):
        write_nifti(root / f"s{s}_base.nii.gz", blob_scan((40, 48), 0.0, s)[:, :, None])
        for years in (1, 3):
            write_nifti(root / f"s{s}_y{years}.nii.gz", blob_scan((40, 48), 0.1 * years, 10 * s + years)[:, :, None])
            lines.append(f"s{s},s{s}_base.nii.gz,s{s}_y{years}.nii.gz,{years},{['healthy', 'MCI', 'AD'][s % 3]}")
    path = root / "visits.csv"
    path.write_text("\n".join(lines) + "\n")
    return path
