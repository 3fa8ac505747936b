"""A real third-party package, installed with pip, adds a task that trains end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_subprocess

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "recon-denoise"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site-packages")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(target), str(EXAMPLE)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return target


def test_pip_installed_plugin_is_listed(installed: Path) -> None:
    env = {"PYTHONPATH": str(installed)}
    tasks = {t["name"]: t for t in json.loads(run_subprocess("list", "--json", env=env).out)["tasks"]}
    assert tasks["denoise"]["plugin"] == "denoise"
    plugins = {p["name"]: p for p in json.loads(run_subprocess("plugins", "--json", env=env).out)["plugins"]}
    assert plugins["denoise"]["distribution"] == "recon-denoise" and plugins["denoise"]["version"] == "0.1.0"


def test_pip_installed_plugin_trains(installed: Path, tmp_path: Path) -> None:
    result = run_subprocess("run", "--task", "denoise", "--preset", "smoke", "--out", tmp_path / "run",
                            "--set", "trainer.progress=false", env={"PYTHONPATH": str(installed)})
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert report["task"] == "denoise" and report["baseline"]["name"] == "noisy input"
