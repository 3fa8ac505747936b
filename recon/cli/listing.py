"""``recon list`` and ``recon plugins``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from recon.plugins import get_plugin_system


def cmd_list(args: argparse.Namespace) -> int:
    system = get_plugin_system()
    rows: list[dict[str, Any]] = []
    for entry in system.tasks.entries():
        rows.append({"name": entry.name, "plugin": entry.plugin, "description": entry.description,
                     **{k: v for k, v in entry.extra.items() if isinstance(v, (str, int, float, list, bool))}})
    if args.json:
        print(json.dumps({"tasks": rows}, indent=2))
        return 0
    width = max([len(r["name"]) for r in rows] + [4])
    for row in rows:
        print(f"{row['name'].ljust(width)}  {row['description']}  [{row['plugin']}]")
    broken = [p for p in system.report() if p["status"] == "error"]
    if broken:
        print(f"({len(broken)} plugin(s) failed to load: see `recon plugins`)")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    report = get_plugin_system().report()
    if args.json:
        print(json.dumps({"plugins": report}, indent=2))
        return 0
    for p in report:
        version = f" {p['version']}" if p["version"] else ""
        things = ", ".join(f"{kind}: {', '.join(names)}" for kind, names in p["registered"].items())
        line = f"{p['name']}{version} [{p['status']}] ({p['module']})"
        if things:
            line += f" - {things}"
        if p["error"]:
            line += f"\n    error: {p['error']}"
        print(line)
    return 0
