"""Fixtures of the ``mri_translation`` tests: one thread for tiny tensors, shared smoke runs,
a manifest of small NIfTI pairs written by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import one_intra_op_thread, phantom_volume, plain_and_gan_runs, write_nifti


@pytest.fixture(autouse=True)
def _one_intra_op_thread():
    """Tiny tensors: one intra-op thread (see :func:`tests.conftest.one_intra_op_thread`)."""
    with one_intra_op_thread():
        yield


def contrast_of(t1: np.ndarray) -> np.ndarray:
    """A made-up "T2" of a phantom: a decreasing (contrast-inverting) pixel-wise function of its "T1"."""
    return np.where(t1 > 0.05, 1.0 - 0.8 * t1 + 0.1 * np.sin(6.0 * t1), 0.0).astype(np.float32)


@pytest.fixture(scope="session")
def pairs_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pairs.csv`` of 4 subjects (t1, t2 NIfTI pairs, 40x40x12), paths relative to it."""
    root = tmp_path_factory.mktemp("pairs")
    lines = ["subject,t1,t2"]
    for k in range(4):
        t1 = phantom_volume((40, 40, 12), seed=k)
        t1 = t1 / t1.max()
        (root / f"s{k}").mkdir()
        write_nifti(root / f"s{k}" / "t1.nii.gz", t1)
        write_nifti(root / f"s{k}" / "t2.nii.gz", contrast_of(t1))
        lines.append(f"s{k},s{k}/t1.nii.gz,s{k}/t2.nii.gz")
    manifest = root / "pairs.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


@pytest.fixture(scope="session")
def translation_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two smoke runs on mni152 T1 -> T2: ``plain`` (L1 only, loss.adversarial=0) and ``gan``,
    which reports the plain one as its non-adversarial comparison (``eval.compare_checkpoint``)."""
    return plain_and_gan_runs("mri_translation", tmp_path_factory.mktemp("translation"))
