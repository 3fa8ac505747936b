"""Files from strangers: every checkpoint load path refuses code; checkpoints know their task."""

from __future__ import annotations

import io
import os
import pickle
import shutil
from pathlib import Path

import pytest
import torch
import yaml

import recon
from recon.train.checkpoint import FORMAT, load_checkpoint
from tests.conftest import write_nifti
from tests.reliability.helpers import one_error_line


class _Payload:
    """Runs a shell command when unpickled by a trusting loader."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil_files(directory: Path, marker: Path, good: dict) -> dict[str, Path]:
    """Checkpoints carrying code three ways: a global reference, a reducer, a raw pickle."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {"global": directory / "global.pt", "reduce": directory / "reduce.pt", "pickle": directory / "raw.pt"}
    torch.save({**good, "hook": os.system}, files["global"])
    torch.save({**good, "nets": {"generator": _Payload(marker)}}, files["reduce"])
    files["pickle"].write_bytes(pickle.dumps({**good, "x": _Payload(marker)}, protocol=2))
    return files


@pytest.fixture
def evil(smoke_run: Path, tmp_path: Path) -> dict[str, Path]:
    good = load_checkpoint(smoke_run / "checkpoints" / "last.pt")
    return _evil_files(tmp_path / "evil", tmp_path / "pwned", good)


def _commands(smoke_run: Path, tmp_path: Path, path: Path) -> dict[str, list]:
    """Every CLI path that loads a checkpoint, pointed at ``path``."""
    image = write_nifti(tmp_path / "in.nii.gz", torch.rand(16, 16, 4).numpy())
    run_dir = tmp_path / f"resume-{path.stem}"
    shutil.copytree(smoke_run, run_dir, ignore=shutil.ignore_patterns(".lock"))
    shutil.copy(path, run_dir / "checkpoints" / "last.pt")  # prev.pt stays valid: must not be used
    compare_dir = tmp_path / f"compare-{path.stem}"
    shutil.copytree(smoke_run, compare_dir, ignore=shutil.ignore_patterns(".lock"))
    good = smoke_run / "checkpoints" / "last.pt"
    return {
        "eval": ["eval", "--checkpoint", path],
        "eval --compare": ["eval", "--checkpoint", good, "--compare", path],
        "predict": ["predict", "--checkpoint", path, image, "-o", tmp_path / "out.nii.gz"],
        "generate": ["generate", "--checkpoint", path, "-n", "1", "-o", tmp_path / "gen"],
        "run --resume": ["run", "--task", "mri_superres", "--resume", "--out", run_dir],
        "eval.compare_checkpoint": ["run", "--task", "mri_superres", "--resume", "--out", compare_dir,
                                    "--set", f"eval.compare_checkpoint={path}"],
    }


@pytest.mark.parametrize("kind", ["global", "reduce", "pickle"])
def test_every_load_path_refuses_pickled_code(cli, smoke_run: Path, tmp_path: Path, evil, kind: str) -> None:
    for name, args in _commands(smoke_run, tmp_path, evil[kind]).items():
        result = cli(*args)
        assert result.code == 2, (name, result.err)
        line = one_error_line(result.err)
        assert "refused to load" in line and "weights_only=True" in line, (name, line)
    assert not (tmp_path / "pwned").exists()  # nothing ran


def test_refusal_names_the_code(cli, evil) -> None:
    line = one_error_line(cli("eval", "--checkpoint", evil["global"]).err)
    assert "it references Python code (posix.system)" in line or "it references Python code (os.system)" in line


def test_checkpoint_records_task_version_and_config(smoke_run: Path) -> None:
    state = load_checkpoint(smoke_run / "checkpoints" / "last.pt")
    assert state["format"] == FORMAT and state["task"] == "mri_superres"
    assert state["recon_version"] == recon.__version__
    assert state["config"] == yaml.safe_load((smoke_run / "config.yaml").read_text())


def _forged(smoke_run: Path, tmp_path: Path, name: str, **changes) -> Path:
    state = load_checkpoint(smoke_run / "checkpoints" / "last.pt")
    state.update(changes)
    path = tmp_path / name
    torch.save(state, path)
    return path


def test_resume_into_another_task_is_refused(cli, smoke_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(smoke_run, run_dir, ignore=shutil.ignore_patterns(".lock"))
    result = cli("run", "--task", "srgan", "--resume", "--out", run_dir)
    assert result.code == 2
    assert one_error_line(result.err) == (f"recon: error: {run_dir}/checkpoints/last.pt: checkpoint of task "
                                          "'mri_superres', not 'srgan' (use --task mri_superres, or another --out)")


def test_comparing_a_checkpoint_of_another_task_is_refused(cli, smoke_run: Path, tmp_path: Path) -> None:
    other = _forged(smoke_run, tmp_path, "srgan.pt", task="srgan")
    result = cli("eval", "--checkpoint", smoke_run / "checkpoints" / "last.pt", "--compare", other)
    assert result.code == 2 and "checkpoint of task 'srgan', not 'mri_superres'" in one_error_line(result.err)


@pytest.mark.parametrize("changes, fragment", [
    ({"format_version": 99}, "written by a newer recon (format 99)"),
    ({"nets": {}}, "damaged recon checkpoint (missing or invalid: nets.generator)"),
    ({"step": "six", "config": None}, "missing or invalid: step, config"),
    ({"nets": {"generator": {}, "ema": [1.0]}}, "missing or invalid: nets.ema"),
    ({"task": "no_such_task"}, "unknown task 'no_such_task'"),
    ({"config": {"model": {"no_such_key": 1}}}, "unknown config key 'model.no_such_key'"),
])
def test_forged_headers_are_clear_errors(cli, smoke_run: Path, tmp_path: Path, changes: dict, fragment: str) -> None:
    path = _forged(smoke_run, tmp_path, "forged.pt", **changes)
    result = cli("eval", "--checkpoint", path)
    assert result.code == 2 and fragment in one_error_line(result.err), result.err


def test_weights_of_another_architecture_are_a_clear_error(cli, smoke_run: Path, tmp_path: Path) -> None:
    state = load_checkpoint(smoke_run / "checkpoints" / "last.pt")
    state["config"]["model"]["channels"] = 16  # the saved weights have 8
    path = tmp_path / "mismatch.pt"
    torch.save(state, path)
    assert "weights do not match the task's generator" in one_error_line(cli("eval", "--checkpoint", path).err)
    run_dir = tmp_path / "run"
    shutil.copytree(smoke_run, run_dir, ignore=shutil.ignore_patterns(".lock"))
    result = cli("run", "--task", "mri_superres", "--resume", "--out", run_dir, "--set", "model.channels=16")
    assert result.code == 2 and "does not fit this run's mri_superres networks" in one_error_line(result.err)


def test_loading_reads_no_code_even_through_torch_load_defaults(tmp_path: Path) -> None:
    """Guard against a regression to ``torch.load`` without ``weights_only``: the payload must not run."""
    marker = tmp_path / "ran"
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "x": _Payload(marker)}, buffer)
    path = tmp_path / "x.pt"
    path.write_bytes(buffer.getvalue())
    from recon.errors import CheckpointError

    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(path)
    assert not marker.exists()
