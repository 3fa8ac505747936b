"""Fixtures for the fault-injection tests: real plugin distributions, background runs."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.reliability.helpers import Background, write_dist_info

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def fault_plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site directory holding the ``recon-faultprobe`` distribution (tests/reliability/recon_faultprobe)."""
    root = tmp_path_factory.mktemp("faultprobe-site")
    shutil.copytree(HERE / "recon_faultprobe", root / "recon_faultprobe",
                    ignore=shutil.ignore_patterns("__pycache__"))
    write_dist_info(root, "recon-faultprobe", "recon_faultprobe", "faultprobe")
    return root


@pytest.fixture
def fault_plugin(fault_plugin_site: Path) -> Iterator[Path]:
    """The ``fault_probe`` task installed in this process (as if pip-installed), removed after."""
    from recon.plugins import get_plugin_system

    sys.path.insert(0, str(fault_plugin_site))
    importlib.invalidate_caches()
    get_plugin_system(reload=True)
    try:
        yield fault_plugin_site
    finally:
        sys.path.remove(str(fault_plugin_site))
        importlib.invalidate_caches()
        get_plugin_system(reload=True)


@pytest.fixture
def background(tmp_path: Path) -> Iterator[Callable[..., Background]]:
    """Start background runs; any still alive at the end of the test is killed."""
    started: list[Background] = []

    def start(*args: object, env: dict | None = None, preexec_fn: Callable[[], None] | None = None) -> Background:
        work = tmp_path / f"bg{len(started)}"
        work.mkdir()
        run = Background([str(a) for a in args], work, env, preexec_fn)
        started.append(run)
        return run

    yield start
    for run in started:
        run.kill()
