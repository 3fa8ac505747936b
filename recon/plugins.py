"""The plugin manager: loads the ``recon`` entry points one by one and isolates failures.

Built-in tasks live in ``plugins/`` and load through the same entry-point group as a
third-party package. A plugin that raises on import or while registering is recorded (see
``recon plugins``) and never takes the other commands down. ``RECON_DISABLE_PLUGINS=a,b``
blocks plugins by entry-point name.
"""

from __future__ import annotations

import importlib

import os
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any, Callable

import pluggy

from recon import hookspecs
from recon.errors import PluginError, UsageError
from recon.registry import Entry, Registry

ENTRY_POINT_GROUP = "recon"


@dataclass
class PluginInfo:
    """What ``recon plugins`` reports for one plugin."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    status: str = "ok"  # ok | error | disabled
    error: str | None = None
    registered: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "registered": self.registered,
        }


def _version() -> str:
    from recon import __version__

    return __version__


def disabled_plugins() -> set[str]:
    """Names listed in ``RECON_DISABLE_PLUGINS`` (comma separated)."""
    raw = os.environ.get("RECON_DISABLE_PLUGINS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def _error_line(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({os.path.basename(frame.filename)}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


#: the roles of a registered network and the config key that selects each
NETWORK_ROLES: dict[str, str] = {"generator": "model.g_network", "discriminator": "model.d_network"}


def check_registration(registry: Registry, entry: Entry) -> None:
    """Refuse (ValueError, the plugin's error) a registration no config key could select.

    Losses must be ``kind="adversarial"`` (the default); metrics may name the batch ``inputs``
    they read besides target and prediction; networks must declare a ``role`` (``generator``
    or ``discriminator``) and may name the ``tasks`` they fit (names normalised to tuples).
    """
    kind = registry.kind
    if not callable(entry.factory):
        raise ValueError(f"{registry.singular} '{entry.name}': the factory is not callable")
    if kind == "losses":
        loss_kind = entry.extra.setdefault("kind", "adversarial")
        if loss_kind != "adversarial":
            raise ValueError(f"loss '{entry.name}': kind={loss_kind!r}, but only adversarial losses are "
                             "selectable (loss.gan_type); register it with kind='adversarial'")
    elif kind == "metrics":
        inputs = entry.extra.get("inputs", ())
        inputs = (inputs,) if isinstance(inputs, str) else tuple(inputs)
        if not all(isinstance(k, str) and k and k not in ("target", "prediction") for k in inputs):
            raise ValueError(f"metric '{entry.name}': inputs must be batch keys, got {entry.extra['inputs']!r}")
        entry.extra["inputs"] = inputs
    elif kind == "networks":
        role = entry.extra.get("role")
        if role not in NETWORK_ROLES:
            raise ValueError(f"network '{entry.name}': role must be 'generator' or 'discriminator', got {role!r}")
        tasks = entry.extra.get("tasks")
        if tasks is not None:
            tasks = (tasks,) if isinstance(tasks, str) else tuple(tasks)
            if not tasks or not all(isinstance(t, str) and t for t in tasks):
                raise ValueError(f"network '{entry.name}': tasks must be task names, got {entry.extra['tasks']!r}")
            entry.extra["tasks"] = tasks


class PluginSystem:
    """Loaded plugins plus the registries they filled."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("recon")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.registries = {kind: Registry(kind) for kind in hookspecs.HOOK_KINDS.values()}
        # core's own registrations are loaded by name, like an entry point: recon.builtin sits
        # above data/losses/metrics, which themselves look things up in this manager
        builtin = importlib.import_module("recon.builtin")

        self.plugins["recon"] = PluginInfo("recon", "recon.builtin", "recon", _version())
        self.add_plugin(builtin, "recon")

    # -- loading ------------------------------------------------------------------------
    def load_entry_points(self) -> None:
        """Import every entry point of the group, one at a time, recording failures."""
        blocked = disabled_plugins()
        # recon's own plugins load first, so a third-party plugin cannot shadow a built-in name.
        def order(ep: metadata.EntryPoint) -> tuple[bool, str]:
            dist = getattr(ep, "dist", None)
            return (dist is None or dist.metadata["Name"] != "recon", ep.name)

        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=order):
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                name=ep.name,
                module=ep.value,
                distribution=dist.metadata["Name"] if dist is not None else None,
                version=dist.version if dist is not None else None,
            )
            if ep.name in self.plugins:
                continue  # the same distribution seen twice on sys.path
            self.plugins[ep.name] = info
            if ep.name in blocked:
                info.status = "disabled"
                continue
            try:
                module = ep.load()
            except BaseException as exc:  # noqa: BLE001 - a plugin must never take recon down
                if isinstance(exc, KeyboardInterrupt):
                    raise
                info.status, info.error = "error", _error_line(exc)
                continue
            self.add_plugin(module, ep.name)

    def add_plugin(self, module: ModuleType | object, name: str) -> None:
        """Register an already imported plugin object and run its hooks in isolation."""
        info = self.plugins.setdefault(
            name,
            PluginInfo(name=name, module=getattr(module, "__name__", repr(module)), distribution=None, version=None),
        )
        try:
            self.pm.register(module, name=name)
        except Exception as exc:  # noqa: BLE001
            info.status, info.error = "error", _error_line(exc)
            return
        for hook_name, kind in hookspecs.HOOK_KINDS.items():
            self._run_hook(name, info, hook_name, kind)

    def _run_hook(self, plugin_name: str, info: PluginInfo, hook_name: str, kind: str) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            if impl.plugin_name != plugin_name:
                continue
            staged: list[Entry] = []
            try:
                impl.function(register=_stager(staged, plugin_name))
                registry = self.registries[kind]
                for entry in staged:
                    check_registration(registry, entry)
                registry.check_new(staged)  # all or nothing: a clash registers none of them
                for entry in staged:
                    registry.add(entry)
                    info.registered.setdefault(kind, []).append(entry.name)
            except Exception as exc:  # noqa: BLE001
                info.status = "error"
                info.error = _error_line(exc)

    # -- queries ------------------------------------------------------------------------
    @property
    def tasks(self) -> Registry:
        return self.registries["tasks"]

    def registry(self, kind: str) -> Registry:
        """The registry of ``kind`` (``tasks``, ``networks``, ``losses``, ``metrics``, ``data_sources``)."""
        return self.registries[kind]

    def report(self) -> list[dict[str, Any]]:
        return [self.plugins[n].as_dict() for n in sorted(self.plugins)]


def _stager(staged: list[Entry], plugin_name: str) -> Callable[..., None]:
    """The ``register`` callable handed to one hook implementation: it appends to that
    implementation's own ``staged`` list, which is checked and registered as a whole."""

    def register(name: str, factory: Any, description: str = "", **extra: Any) -> None:
        staged.append(Entry(name, factory, plugin_name, description, extra))

    return register


_SYSTEM: PluginSystem | None = None


def get_plugin_system(reload: bool = False) -> PluginSystem:
    """The process-wide plugin system, loaded on first use."""
    global _SYSTEM
    if _SYSTEM is None or reload:
        system = PluginSystem()
        system.load_entry_points()
        _SYSTEM = system
    return _SYSTEM


def get_task(name: str) -> Any:
    """Build the task called ``name``.

    Raises:
        UsageError: unknown name (with the valid names and the closest match).
        PluginError: the plugin's factory raised; one line naming the plugin.
    """
    entry = get_plugin_system().tasks.get(name)
    try:
        return entry.factory()
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported as such
        raise PluginError(f"task '{name}' of plugin '{entry.plugin}' failed to build: {_error_line(exc)}") from exc


def build_entry(entry: Entry, what: str, *args: Any, **kwargs: Any) -> Any:
    """Call a registered factory; a plugin's exception becomes one PluginError line naming
    ``what`` (``adversarial loss``, ``network``...) and the plugin. UsageError passes through."""
    try:
        return entry.factory(*args, **kwargs)
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported as such
        raise PluginError(f"{what} '{entry.name}' of plugin '{entry.plugin}' failed to build: "
                          f"{_error_line(exc)}") from exc
