"""The networks a run trains: the task's own, or a registered one selected by config.

``model.g_network`` / ``model.d_network`` name a network registered through
``register_networks`` with role ``generator`` / ``discriminator``; the empty string (the
default) keeps the networks of the task's ``setup``. A registered network is built with
``factory(cfg)`` (after the task's) wherever the task's parts are: the trainer, and
:mod:`recon.train.inference` for ``recon eval`` / ``predict`` / ``generate`` and compared
checkpoints.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from recon.errors import ConfigError, PluginError
from recon.plugins import NETWORK_ROLES, build_entry, get_plugin_system
from recon.registry import Entry
from recon.task import Parts, build_parts


def _fits(entry: Entry, role: str, task: str) -> bool:
    tasks = entry.extra.get("tasks")
    return entry.extra.get("role") == role and (tasks is None or task in tasks)


def network_entry(cfg: Any, role: str) -> Entry | None:
    """The registered network ``cfg`` selects for ``role`` (``None``: the task's own).

    Raises:
        UsageError: an unknown name, a network of the other role, or one registered for
            other tasks (one line naming the key and the valid choices).
    """
    key = NETWORK_ROLES[role]
    name = getattr(cfg.model, key.split(".")[1], "")
    if not name:
        return None
    registry = get_plugin_system().registry("networks")
    choices = registry.names(lambda e: _fits(e, role, cfg.task))
    valid = ", ".join(choices) or "none registered"
    entry = registry.get(name, key=key, what=f"{role} network", choices=choices)
    if entry.extra.get("role") != role:
        raise ConfigError(f"{key}: network '{name}' is a {entry.extra.get('role')}, not a {role}; "
                          f"valid {role}s for task {cfg.task}: {valid}")
    if not _fits(entry, role, cfg.task):
        raise ConfigError(f"{key}: network '{name}' (plugin '{entry.plugin}') is registered for task(s) "
                          f"{', '.join(entry.extra['tasks'])}, not {cfg.task}; valid {role}s: {valid}")
    return entry


def check_networks(cfg: Any) -> None:
    """Refuse a ``model.g_network`` / ``model.d_network`` that cannot be built for this task."""
    for role in NETWORK_ROLES:
        network_entry(cfg, role)


def _build(entry: Entry, cfg: Any, role: str) -> nn.Module:
    module = build_entry(entry, f"{role} network", cfg)
    if not isinstance(module, nn.Module):
        raise PluginError(f"{role} network '{entry.name}' of plugin '{entry.plugin}' returned a "
                          f"{type(module).__name__}, not a torch.nn.Module")
    return module


def setup_parts(task: Any, cfg: Any, train_data: Any) -> Parts:
    """The task's :class:`~recon.task.Parts` (defaults resolved, :func:`recon.task.build_parts`)
    with ``model.g_network`` / ``model.d_network``'s registered networks in place of the task's,
    and the discriminator spectrally normalised with ``model.d_spectral_norm``."""
    parts = build_parts(task, cfg, train_data)
    for role in NETWORK_ROLES:
        entry = network_entry(cfg, role)
        if entry is not None:
            setattr(parts, role, _build(entry, cfg, role))
    if getattr(cfg.model, "d_spectral_norm", False):
        _spectral_norm(parts, cfg)
    return parts


def _spectral_norm(parts: Parts, cfg: Any) -> None:
    """``model.d_spectral_norm``: every Conv/Linear weight of D spectrally normalised (in place;
    its ``_u`` / ``_v`` power-iteration vectors are buffers, so checkpoints carry them)."""
    from recon.nets.spectral import apply_spectral_norm

    if parts.discriminator is None:
        raise ConfigError(f"model.d_spectral_norm=true: task {cfg.task} has no discriminator")
    try:
        apply_spectral_norm(parts.discriminator)
    except ValueError as exc:
        raise ConfigError(f"model.d_spectral_norm=true: {exc}") from None
