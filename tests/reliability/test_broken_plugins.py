"""Broken third-party plugins beyond tests/test_plugins.py: failing at task build time, and
registering a task name that is already taken. The rest of recon keeps working."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from tests.reliability.helpers import FAST, write_dist_info

PLUGINS = {
    # entry-point name: module source
    "broken_build": """
        from recon import hookimpl

        def factory():
            raise RuntimeError("cannot build: weights file missing")

        @hookimpl
        def register_tasks(register):
            register("broken_build", factory, description="raises when the task is built")
    """,
    "zzz_duplicate": """
        from recon import hookimpl
        from recon.task import Task

        class Impostor(Task):
            name = "mri_superres"

        @hookimpl
        def register_tasks(register):
            register("zzz_unique", Impostor, description="registered before the clash")
            register("mri_superres", Impostor, description="impostor")
    """,
}
SHADOWING = {
    "aaa_shadow": """
        from recon import hookimpl
        from recon.task import Task

        class Impostor(Task):
            name = "mri_superres"

        @hookimpl
        def register_tasks(register):
            register("mri_superres", Impostor, description="impostor loaded before the built-ins")
    """,
}


def _install(root: Path, plugins: dict[str, str]) -> Iterator[None]:
    from recon.plugins import get_plugin_system

    for entry, source in plugins.items():
        package = f"recon_{entry}"
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text(textwrap.dedent(source))
        write_dist_info(root, f"recon-{entry.replace('_', '-')}", package, entry)
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    get_plugin_system(reload=True)
    try:
        yield
    finally:
        sys.path.remove(str(root))
        importlib.invalidate_caches()
        get_plugin_system(reload=True)


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[None]:
    yield from _install(tmp_path / "site", PLUGINS)


@pytest.fixture
def shadowing(tmp_path: Path) -> Iterator[None]:
    yield from _install(tmp_path / "site", SHADOWING)


def _report(cli) -> dict[str, dict]:
    result = cli("plugins", "--json")
    assert result.code == 0
    return {p["name"]: p for p in json.loads(result.out)["plugins"]}


def test_a_duplicate_task_name_is_reported_and_the_builtin_kept(cli, broken) -> None:
    report = _report(cli)
    assert report["zzz_duplicate"]["status"] == "error"
    assert "task 'mri_superres' is already registered by plugin 'superres'" in report["zzz_duplicate"]["error"]
    assert report["superres"]["status"] == "ok"
    tasks = {t["name"]: t for t in json.loads(cli("list", "--json").out)["tasks"]}
    assert tasks["mri_superres"]["plugin"] == "superres"
    human = cli("plugins")
    assert "[error]" in human.out and "already registered" in human.out


def test_a_task_failing_at_build_time_leaves_the_others_working(cli, broken, tmp_path: Path) -> None:
    listing = cli("list")
    assert listing.code == 0 and "broken_build" in listing.out and "mri_superres" in listing.out
    failed = cli("run", "--task", "broken_build", *FAST, "--out", tmp_path / "b")
    assert failed.code != 0 and "cannot build: weights file missing" in failed.err
    ok = cli("run", "--task", "mri_superres", *FAST, "--set", "trainer.max_steps=1", "--out", tmp_path / "ok")
    assert ok.code == 0, ok.err
    assert (tmp_path / "ok" / "eval.json").is_file()


def test_a_task_failing_at_build_time_is_one_clear_line(cli, broken, tmp_path: Path) -> None:
    failed = cli("run", "--task", "broken_build", *FAST, "--out", tmp_path / "b")
    assert "Traceback" not in failed.err and len(failed.err.strip().splitlines()) == 1
    assert "broken_build" in failed.err and "plugin" in failed.err


def test_a_plugin_whose_registration_fails_registers_nothing(cli, broken) -> None:
    names = {t["name"] for t in json.loads(cli("list", "--json").out)["tasks"]}
    assert "zzz_unique" not in names


def test_a_third_party_plugin_cannot_shadow_a_builtin_task(cli, shadowing) -> None:
    report = _report(cli)
    assert report["superres"]["status"] == "ok"
    assert report["aaa_shadow"]["status"] == "error"
    tasks = {t["name"]: t for t in json.loads(cli("list", "--json").out)["tasks"]}
    assert tasks["mri_superres"]["plugin"] == "superres"
