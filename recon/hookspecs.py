"""Hook specifications of recon's plugin system (pluggy, project name ``recon``).

Every hook takes a ``register`` callback, so a plugin registers as many things as it likes
and the registration stays lazy: a factory is only called when the thing is used, so
``recon list`` never builds a network or imports a heavy module.

A plugin module (found through the ``recon`` entry-point group) looks like::

    from recon import hookimpl

    @hookimpl
    def register_tasks(register):
        register("my_task", lambda: MyTask(), description="what it does")
"""

from __future__ import annotations

from typing import Any, Callable

import pluggy

hookspec = pluggy.HookspecMarker("recon")
hookimpl = pluggy.HookimplMarker("recon")

Register = Callable[..., None]


@hookspec
def register_tasks(register: Register) -> None:
    """Register tasks: ``register(name, factory, description="")``.

    ``factory()`` returns a :class:`recon.task.Task` instance.
    """


@hookspec
def register_networks(register: Register) -> None:
    """Register networks: ``register(name, factory, description="")``.

    ``factory(**kwargs)`` returns a ``torch.nn.Module``.
    """


@hookspec
def register_losses(register: Register) -> None:
    """Register losses: ``register(name, factory, description="")``.

    ``factory(**kwargs)`` returns a loss object (a callable or ``nn.Module``).
    """


@hookspec
def register_data_sources(register: Register) -> None:
    """Register built-in data sources: ``register(name, factory, description="")``.

    ``factory(**kwargs)`` returns the source's data (see :mod:`recon.data`).
    """


@hookspec
def register_metrics(register: Register) -> None:
    """Register metrics: ``register(name, factory, description="")``.

    ``factory()`` returns a callable ``metric(gt, pred, **kwargs) -> float``.
    """


HOOK_KINDS: dict[str, str] = {
    "register_tasks": "tasks",
    "register_networks": "networks",
    "register_losses": "losses",
    "register_data_sources": "data_sources",
    "register_metrics": "metrics",
}

__all__: list[Any] = ["hookspec", "hookimpl", "HOOK_KINDS"]
