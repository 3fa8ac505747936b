"""Helpers of the fault-injection tests: background runs, run-directory probes, comparisons."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

#: a CPU smoke run without the periodic evaluation and samples (faster, same training)
FAST = ["--preset", "smoke", "--device", "cpu", "--set", "trainer.progress=false",
        "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0", "--set", "trainer.log_every=1"]


def write_dist_info(root: Path, dist_name: str, package: str, entry_name: str, version: str = "1.2.3") -> None:
    """The ``.dist-info`` of an installed distribution exposing ``package`` in group ``recon``."""
    info = root / f"{package}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[recon]\n{entry_name} = {package}\n")


class Background:
    """``python -m recon ARGS`` running in the background, output captured to files."""

    def __init__(self, args: list[str], cwd: Path, env: dict | None = None,
                 preexec_fn: Callable[[], None] | None = None) -> None:
        self.out_path, self.err_path = cwd / "bg.out", cwd / "bg.err"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "recon", *map(str, args)], stdout=out, stderr=err,
                                         env={**os.environ, **(env or {})}, cwd=cwd, preexec_fn=preexec_fn)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_for(self, condition: Callable[[], bool], timeout: float = 300, what: str = "condition") -> None:
        """Poll ``condition`` every 20 ms; fail when the process ends or ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if not self.alive():
                raise AssertionError(f"run ended (code {self.proc.returncode}) before {what}:\n{self.stderr()[-2000:]}")
            time.sleep(0.02)
        self.kill()
        raise AssertionError(f"timed out waiting for {what}:\n{self.stderr()[-2000:]}")

    def finish(self, timeout: float = 300) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def stderr(self) -> str:
        return self.err_path.read_text()


def logged_steps(run_dir: Path) -> list[int]:
    """Training steps in ``metrics.jsonl`` (lines with ``g_loss``), a line cut mid-write ignored."""
    path = run_dir / "metrics.jsonl"
    steps = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "g_loss" in record:
                steps.append(record["step"])
    return steps


def checkpoint_step(run_dir: Path) -> int:
    """Step of ``checkpoints/last.pt``, -1 when there is none (yet)."""
    from recon.errors import CheckpointError
    from recon.train.checkpoint import load_checkpoint

    try:
        return int(load_checkpoint(run_dir / "checkpoints" / "last.pt")["step"])
    except CheckpointError:
        return -1


def flatten(tree: object, prefix: str = "") -> dict[str, object]:
    """Leaves of a nested state dict keyed by dotted path."""
    out: dict[str, object] = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            out.update(flatten(value, f"{prefix}{i}."))
    else:
        out[prefix] = tree
    return out


def assert_same_training_state(a: dict, b: dict) -> None:
    """Bit-identical weights and optimizer states."""
    import torch

    for group in ("nets", "optim"):
        flat_a, flat_b = flatten(a[group]), flatten(b[group])
        assert flat_a.keys() == flat_b.keys(), group
        for key, value in flat_a.items():
            other = flat_b[key]
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, other), f"{group}.{key} differs"
            else:
                assert value == other, f"{group}.{key}: {value!r} != {other!r}"


def one_error_line(err: str) -> str:
    """The last non-empty stderr line; fails if a traceback was printed."""
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    return lines[-1]
