"""Plugins load through the entry-point group; a broken plugin never takes recon down."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_subprocess


def make_distribution(root: Path, name: str, module_source: str, entry_name: str | None = None) -> Path:
    """A minimal installed distribution (a package plus .dist-info with an entry point)."""
    package = name.replace("-", "_")
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text(textwrap.dedent(module_source))
    info = root / f"{package}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[recon]\n{entry_name or package} = {package}\n")
    return root


GOOD = """
from recon import hookimpl
from recon.task import Task

class EchoTask(Task):
    name = "echo_task"
    description = "a third-party task"

@hookimpl
def register_tasks(register):
    register("echo_task", EchoTask, description="a third-party task")
"""
RAISES_ON_IMPORT = "raise RuntimeError('boom at import')\n"
RAISING_HOOK = """
from recon import hookimpl

@hookimpl
def register_tasks(register):
    register("half_registered", object)
    raise ValueError('hook exploded')
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    make_distribution(root, "recon-echo", GOOD, "echo")
    make_distribution(root, "recon-broken-import", RAISES_ON_IMPORT, "broken_import")
    make_distribution(root, "recon-broken-hook", RAISING_HOOK, "broken_hook")
    return root


def test_builtin_plugins_load_through_the_entry_point_group(cli) -> None:
    result = cli("plugins", "--json")
    assert result.code == 0
    plugins = {p["name"]: p for p in json.loads(result.out)["plugins"]}
    assert plugins["superres"]["status"] == "ok"
    assert plugins["superres"]["distribution"] == "recon"
    assert "mri_superres" in plugins["superres"]["registered"]["tasks"]


def test_list_json(cli) -> None:
    result = cli("list", "--json")
    names = {t["name"] for t in json.loads(result.out)["tasks"]}
    assert {"mri_superres", "srgan"} <= names


def test_third_party_and_broken_plugins(plugin_path: Path) -> None:
    env = {"PYTHONPATH": str(plugin_path)}
    plugins = run_subprocess("plugins", "--json", env=env)
    assert plugins.code == 0, plugins.err
    report = {p["name"]: p for p in json.loads(plugins.out)["plugins"]}
    assert report["echo"]["status"] == "ok" and report["echo"]["version"] == "1.2.3"
    assert report["broken_import"]["status"] == "error"
    assert "RuntimeError: boom at import" in report["broken_import"]["error"]
    assert report["broken_hook"]["status"] == "error"
    assert "ValueError: hook exploded" in report["broken_hook"]["error"]

    listing = run_subprocess("list", "--json", env=env)
    assert listing.code == 0
    names = {t["name"] for t in json.loads(listing.out)["tasks"]}
    assert "echo_task" in names and "mri_superres" in names
    assert "half_registered" not in names  # a failing hook registers nothing

    human = run_subprocess("plugins", env=env)
    assert "boom at import" in human.out and "[error]" in human.out


def test_other_commands_still_work_next_to_a_broken_plugin(plugin_path: Path, tmp_path: Path) -> None:
    result = run_subprocess("run", "--task", "mri_superres", "--preset", "smoke", "--out", tmp_path / "r",
                            "--set", "trainer.max_steps=2", "--set", "trainer.progress=false",
                            env={"PYTHONPATH": str(plugin_path)})
    assert result.code == 0, result.err
    assert (tmp_path / "r" / "eval.json").exists()


def test_disable_plugins(plugin_path: Path) -> None:
    env = {"PYTHONPATH": str(plugin_path), "RECON_DISABLE_PLUGINS": "broken_import, echo"}
    report = {p["name"]: p for p in json.loads(run_subprocess("plugins", "--json", env=env).out)["plugins"]}
    assert report["broken_import"]["status"] == "disabled"
    assert report["echo"]["status"] == "disabled"
    names = {t["name"] for t in json.loads(run_subprocess("list", "--json", env=env).out)["tasks"]}
    assert "echo_task" not in names
    unknown = run_subprocess("run", "--task", "echo_task", env=env)
    assert unknown.code == 2 and "unknown task 'echo_task'" in unknown.err
