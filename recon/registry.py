"""Name -> lazy factory registries filled by plugins.

A registry never builds anything at registration time; ``get(name)`` returns the entry and
``build(name, ...)`` calls its factory. Unknown names raise :class:`UsageError` listing the
valid names and the closest match.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable

from recon.errors import UsageError


def closest_hint(name: str, choices: list[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""``."""
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""


@dataclass
class Entry:
    """One registered thing: its name, lazy factory, owning plugin and a description."""

    name: str
    factory: Callable[..., Any]
    plugin: str
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Registry:
    """Registry of one kind of thing (tasks, networks, losses, data sources, metrics)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    @property
    def singular(self) -> str:
        """One thing of this kind, in words: ``loss``, ``network``, ``data source``."""
        one = self.kind[:-2] if self.kind.endswith("sses") else self.kind[:-1]
        return one.replace("_", " ")

    def add(self, entry: Entry) -> None:
        """Add ``entry``; a second registration of the same name is an error of the plugin."""
        if entry.name in self._entries:
            owner = self._entries[entry.name].plugin
            raise ValueError(f"{self.singular} '{entry.name}' is already registered by plugin '{owner}'")
        self._entries[entry.name] = entry

    def check_new(self, entries: list[Entry]) -> None:
        """Raise ValueError when any of ``entries`` clashes with a registered name or another."""
        seen: set[str] = set()
        for entry in entries:
            if entry.name in self._entries:
                owner = self._entries[entry.name].plugin
                raise ValueError(f"{self.singular} '{entry.name}' is already registered by plugin '{owner}'")
            if entry.name in seen:
                raise ValueError(f"{self.singular} '{entry.name}' is registered twice")
            seen.add(entry.name)

    def names(self, where: Callable[[Entry], bool] | None = None) -> list[str]:
        """The registered names, sorted; ``where`` keeps only the entries it accepts."""
        return sorted(n for n, e in self._entries.items() if where is None or where(e))

    def entries(self) -> list[Entry]:
        return [self._entries[n] for n in self.names()]

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def get(self, name: str, *, key: str = "", what: str = "", choices: list[str] | None = None) -> Entry:
        """The entry called ``name``; unknown names raise UsageError with the valid names.

        ``key`` (the config key that named it, e.g. ``loss.gan_type``) prefixes the message,
        ``what`` names the thing (default: the registry's kind in the singular) and
        ``choices`` replaces the full list of names in it (e.g. only the generators).
        """
        if name not in self._entries:
            names = self.names() if choices is None else choices
            valid = ", ".join(names) or "none registered"
            prefix = f"{key}: " if key else ""
            raise UsageError(
                f"{prefix}unknown {what or self.singular} '{name}'{closest_hint(name, names)}; valid: {valid}"
            )
        return self._entries[name]

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the factory of ``name`` with the given arguments."""
        return self.get(name).factory(*args, **kwargs)
