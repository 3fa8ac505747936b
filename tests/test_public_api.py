"""recon.api: the public API plugins and examples import (names, laziness, static view)."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import recon.api as api

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in api.__all__:
        value = getattr(api, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"recon.api.{name} has no docstring"


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        api.not_a_name  # noqa: B018


def test_importing_the_api_does_not_import_torch() -> None:
    code = ("import sys, recon.api; from recon.api import hookimpl; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_static_view_lists_the_same_names() -> None:
    """The TYPE_CHECKING imports (what type checkers and IDEs see) match ``__all__``."""
    tree = ast.parse((ROOT / "recon" / "api.py").read_text())
    static: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom)
                for alias in stmt.names:
                    static[alias.name] = stmt.module or ""
    assert api.__all__ == sorted(api._EXPORTS)
    assert sorted(static) == api.__all__
    assert static == api._EXPORTS


def test_plugins_and_examples_import_recon_only_through_the_api() -> None:
    """The same rule the import-linter contract enforces in CI, checked on the source files."""
    offenders = []
    files = list((ROOT / "plugins").rglob("*.py")) + list((ROOT / "examples").rglob("*.py"))
    for path in files:
        if "build" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                module = node.module
            elif isinstance(node, ast.Import):
                module = node.names[0].name
            else:
                continue
            if (module == "recon" or module.startswith("recon.")) and module != "recon.api":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    assert not offenders, "\n".join(offenders)


def test_every_public_name_has_a_reference_entry() -> None:
    """docs/reference/ (mkdocstrings) documents each name of ``recon.api`` where it is defined."""
    pages = "\n".join(p.read_text() for p in (ROOT / "docs" / "reference").glob("*.md"))
    missing = [name for name in api.__all__ if f"::: {api._EXPORTS[name]}.{name}\n" not in pages]
    assert not missing, f"add these to docs/reference/: {missing}"
