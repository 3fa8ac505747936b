"""Disk faults (file-size limit, a full filesystem) and the one-run-per-directory lock."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recon.train.checkpoint import load_checkpoint
from recon.errors import UsageError
from recon.train.lock import RunLock
from tests.reliability.helpers import FAST, one_error_line

LIMIT = 64 * 1024  # bytes per file: the log files fit, a ~350 kB checkpoint does not


def _copy_run(smoke_run: Path, target: Path) -> Path:
    shutil.copytree(smoke_run, target, ignore=shutil.ignore_patterns(".lock"))
    return target


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))  # Python ignores SIGXFSZ: writes get EFBIG


def test_file_size_limit_is_a_clear_error_and_keeps_the_checkpoint(background, smoke_run: Path, tmp_path: Path) -> None:
    run_dir = _copy_run(smoke_run, tmp_path / "run")
    last = run_dir / "checkpoints" / "last.pt"
    before = {p.name: p.read_bytes() for p in last.parent.iterdir()}
    run = background("run", "--task", "mri_superres", "--resume", "--out", run_dir, *FAST,
                     "--set", "trainer.max_steps=8", "--set", "trainer.checkpoint_every=1",
                     preexec_fn=_limit_file_size)
    assert run.finish() == 3
    line = one_error_line(run.stderr())
    assert line.startswith(f"recon: error: cannot write {last}.tmp: File too large")
    assert f"the previous checkpoint {last} is intact" in line
    assert {p.name: p.read_bytes() for p in last.parent.iterdir()} == before  # untouched, no .tmp left
    assert load_checkpoint(last)["step"] == 6


@pytest.fixture
def small_filesystem(tmp_path: Path, smoke_run: Path):
    """A tmpfs holding a copy of the smoke run with room for half a checkpoint more.

    Needs root and mount rights; skipped elsewhere (the RLIMIT_FSIZE test covers the path).
    """
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root; the RLIMIT_FSIZE test covers the same path")
    files = [p for p in smoke_run.rglob("*") if p.is_file() and p.parent.name in ("checkpoints", smoke_run.name)]
    pages = sum(-(-p.stat().st_size // 4096) for p in files) + 16
    size = (pages + (smoke_run / "checkpoints" / "last.pt").stat().st_size // 2 // 4096) * 4096
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()[:80]})")
    try:
        run_dir = mount / "run"
        shutil.copytree(smoke_run, run_dir, ignore=shutil.ignore_patterns(".lock", "tensorboard", "samples"))
        yield run_dir
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_is_a_clear_error_and_keeps_the_checkpoint(cli, small_filesystem: Path) -> None:
    run_dir = small_filesystem
    last = run_dir / "checkpoints" / "last.pt"
    before = last.read_bytes()
    result = cli("run", "--task", "mri_superres", "--resume", "--out", run_dir, *FAST[2:],
                 "--set", "trainer.max_steps=8", "--set", "trainer.checkpoint_every=1")
    assert result.code == 3, result.err
    line = one_error_line(result.err)
    assert "No space left on device" in line and f"the previous checkpoint {last} is intact" in line
    assert last.read_bytes() == before and not Path(f"{last}.tmp").exists()


def _hold_lock(run_dir: Path) -> subprocess.Popen:
    """Another process that takes the run directory's lock and waits on stdin."""
    code = ("import sys; from pathlib import Path; from recon.train.lock import RunLock\n"
            f"with RunLock(Path({str(run_dir)!r})):\n    print('locked', flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_live_run_locks_its_directory_and_a_dead_one_is_taken_over(cli, smoke_run: Path, tmp_path: Path) -> None:
    run_dir = _copy_run(smoke_run, tmp_path / "run")
    holder = _hold_lock(run_dir)
    try:
        resumed = cli("run", "--task", "mri_superres", "--resume", "--out", run_dir)
        assert resumed.code == 2
        assert one_error_line(resumed.err) == (f"recon: error: {run_dir} is in use by another recon run "
                                               f"(pid {holder.pid}); wait for it to finish or stop it, then --resume")
    finally:
        holder.kill()
        holder.wait()
    assert (run_dir / ".lock").exists()  # a SIGKILLed holder leaves its file behind: stale
    resumed = cli("run", "--task", "mri_superres", "--resume", "--out", run_dir)
    assert resumed.code == 0, resumed.err
    assert not (run_dir / ".lock").exists()


def test_stale_pid_lock_without_flock(tmp_path: Path, monkeypatch) -> None:
    """Where flock is unsupported, a lock file naming a dead process is taken over."""
    import errno
    import fcntl

    def no_flock(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".lock").write_text(f"{dead.pid} {os.uname().nodename}")
    with RunLock(tmp_path) as lock:
        assert lock.held and (tmp_path / ".lock").read_text().split()[0] == str(os.getpid())
    (tmp_path / ".lock").write_text(f"{os.getppid()} {os.uname().nodename}")  # a live process
    with pytest.raises(UsageError, match=f"in use by another recon run \\(pid {os.getppid()}\\)"):
        RunLock(tmp_path).__enter__()


def test_any_other_write_hitting_a_full_disk_is_exit_3(cli, monkeypatch, tmp_path: Path) -> None:
    """metrics.jsonl, samples, eval.json ...: the CLI maps a storage OSError to one line, exit 3."""
    import errno

    import recon.cli.run

    def full(args) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "metrics.jsonl"))

    monkeypatch.setattr(recon.cli.run, "cmd_run", full)
    result = cli("run", "--task", "mri_superres")
    assert result.code == 3
    assert one_error_line(result.err) == (f"recon: error: cannot write {tmp_path / 'metrics.jsonl'}: "
                                          "No space left on device (errno 28)")
