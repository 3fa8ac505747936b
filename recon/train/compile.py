"""``trainer.compile=true``: ``torch.compile`` on the trained networks, with an eager fallback.

``torch.compile`` is lazy: a missing C++ compiler, an unsupported Python or an operator that
cannot be traced only fails on the first call. :class:`CompiledModule` therefore runs the
compiled module and, on the first error, prints one line and runs the bare module from
then on (the same parameters, so training simply continues eagerly). If the bare module
fails too, that error is the real one and propagates.

What is compiled (see :func:`recon.train.distributed.wrap_for_training`): the DDP-wrapped G
and D (``torch.compile(DDP(m))``, the order PyTorch recommends) and the bare D of the G
phase. Passes that differentiate twice (R1, WGAN-GP, path length) run the eager modules:
AOTAutograd has no double backward. EMA copies and evaluation stay eager.

State dicts are always taken from the bare modules, so checkpoints never hold
``_orig_mod.`` keys and load into uncompiled models. ``RECON_COMPILE_BACKEND`` picks a
``torch.compile`` backend (default ``inductor``; ``aot_eager`` traces without generating
code, the usual way to tell a tracing problem from a code-generation one).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Callable, ContextManager, overload

import torch
from torch import nn

BACKEND_ENV = "RECON_COMPILE_BACKEND"


def _fallback_message(name: str, exc: BaseException) -> None:
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    print(f"recon: torch.compile of the {name} failed ({type(exc).__name__}: {first}); "
          f"running it eagerly (set trainer.compile=false to skip compiling)", file=sys.stderr)


class CompiledModule(nn.Module):
    """Calls the compiled ``module``; falls back to ``module`` itself after the first failure.

    ``module`` stays a child (``.module``), so ``parameters()``, ``train()``/``eval()``,
    ``requires_grad_()`` and ``no_sync()`` reach the real network. Input and output shapes
    are those of ``module``.
    """

    _compiled: Callable[..., Any]  # set with object.__setattr__ (not a registered child)

    def __init__(self, module: nn.Module, compiled: Any, name: str) -> None:
        super().__init__()
        self.module = module
        object.__setattr__(self, "_compiled", compiled)  # not a child: no duplicate parameters
        self.name = name
        self.failed = False

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if not self.failed:
            try:
                return self._compiled(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - any compile error: fall back, say so once
                self.failed = True
                _fallback_message(self.name, exc)
        return self.module(*args, **kwargs)

    def no_sync(self) -> ContextManager:
        """DDP's ``no_sync`` of the wrapped module (a no-op context without DDP)."""
        inner = getattr(self.module, "no_sync", None)
        return inner() if inner is not None else contextlib.nullcontext()


@overload
def maybe_compile(module: nn.Module, enabled: bool, name: str) -> nn.Module: ...


@overload
def maybe_compile(module: None, enabled: bool, name: str) -> None: ...


def maybe_compile(module: nn.Module | None, enabled: bool, name: str) -> nn.Module | None:
    """``module`` compiled (as a :class:`CompiledModule`) when ``enabled``, else ``module``.

    A ``torch.compile`` call that fails at once (unknown backend, unsupported platform)
    prints the fallback message and returns ``module``.
    """
    if not enabled or module is None:
        return module
    backend = os.environ.get(BACKEND_ENV, "inductor")
    try:
        compiled = torch.compile(module, backend=backend)
    except Exception as exc:  # noqa: BLE001
        _fallback_message(name, exc)
        return module
    return CompiledModule(module, compiled, name)
