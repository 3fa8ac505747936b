"""The forward-operator contract: ``y = A(x; params)`` with parameters drawn from a seed.

An :class:`Operator` describes how a clean image ``x`` becomes the measurement ``y`` a task
reconstructs from (a low-resolution image, undersampled k-space, a motion-corrupted slice, an
image with a hole). It holds only its configuration (scale, acceleration, fill ...); everything
drawn at random per sample — a mask, coil maps, a motion trajectory — is returned by
:meth:`Operator.sample` and passed back explicitly, so an operator carries no state between
calls and one ``torch.Generator`` seed gives one measurement.

* ``sample(shape, generator) -> params``: per-sample parameters for an ``x`` of ``shape``
  (a small dataclass of tensors, or ``None`` for a deterministic operator).
* ``forward(x, params) -> y`` (also ``op(x, params)``): the measurement ``A x``.
* ``adjoint(y, params) -> x``: ``A^H y`` for linear operators; ``NotImplementedError`` otherwise.
* ``pseudo_inverse(y, params) -> x``: the task's classical reconstruction (bicubic upsampling,
  the zero-filled image, the corrupted image itself, a hole fill) — what ``eval.json`` reports
  as the baseline. It is the Moore-Penrose inverse only where the docstring says so.

Operators are plain Python objects running torch code: batched where their docstrings say so,
on whatever device and dtype the inputs have (the ``meta`` device included, except where an
operator needs a CPU library).
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Sequence, TypeVar

import torch
from torch import Tensor

__all__ = ["Operator", "LinearOperator", "adjoint_by_autograd"]

_P = TypeVar("_P")


class Operator:
    """Base class of forward operators (the contract: module docstring).

    Subclasses override :meth:`forward` and :meth:`pseudo_inverse`, and :meth:`sample` when they
    draw per-sample parameters. ``linear`` tells whether :meth:`adjoint` is defined.
    """

    #: whether ``forward`` is linear in ``x`` (and ``adjoint`` implemented)
    linear: ClassVar[bool] = False
    #: the pseudo-inverse's name as a baseline in ``eval.json`` (``bicubic``, ``zero-filled`` ...)
    baseline_name: ClassVar[str] = "pseudo-inverse"
    #: the dataclass :meth:`sample` returns (rebuilt from its fields, e.g. of a collated batch);
    #: ``None``: no parameters, or a mapping of tensors
    params_type: ClassVar[type | None] = None

    def sample(self, shape: Sequence[int], generator: torch.Generator | None = None) -> Any:
        """Per-sample parameters for an input of ``shape``; ``None`` for a deterministic operator.

        Draws only from ``generator`` (``None``: torch's global generator), so the same seed gives
        the same parameters.
        """
        return None

    def forward(self, x: Tensor, params: Any = None) -> Tensor:
        """The measurement ``y = A(x; params)``; shapes: the subclass's docstring."""
        raise NotImplementedError

    def adjoint(self, y: Tensor, params: Any = None) -> Tensor:
        """``A^H y`` for a linear operator (``<A x, y> == <x, A^H y>``); ``NotImplementedError`` otherwise."""
        raise NotImplementedError(f"{type(self).__name__} is not linear: it has no adjoint")

    def pseudo_inverse(self, y: Tensor, params: Any = None) -> Tensor:
        """The classical reconstruction of ``x`` from ``y`` (the task's baseline); shape of ``x``."""
        raise NotImplementedError

    def __call__(self, x: Tensor, params: Any = None) -> Tensor:
        """``forward(x, params)``."""
        return self.forward(x, params)

    def __repr__(self) -> str:
        fields = getattr(self, "__dataclass_fields__", None)
        if fields:
            return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in fields)})"
        return f"{type(self).__name__}()"


class LinearOperator(Operator):
    """An operator linear in ``x``; subclasses implement :meth:`adjoint` (closed form or
    :func:`adjoint_by_autograd`)."""

    linear = True

    def adjoint(self, y: Tensor, params: Any = None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


def require_params(params: _P | None, where: str) -> _P:
    """``params``, or a ``TypeError`` when it is ``None``: for the methods of an operator whose
    parameters have no default (the signatures keep the base class's ``params=None``)."""
    if params is None:
        raise TypeError(f"{where} needs params (what sample() returns), got None")
    return params


def adjoint_by_autograd(forward: Callable[[Tensor], Tensor], y: Tensor, x_shape: Sequence[int]) -> Tensor:
    """``A^H y`` of a linear real map ``forward`` (``x (x_shape) -> y``) as the vector-Jacobian product.

    For a linear ``A``, ``grad_x <A x, y> = A^T y`` at any ``x``; it is evaluated at ``x = 0``
    (exact, no finite differences). Works under ``torch.no_grad`` and keeps the graph when ``y``
    requires grad. Returns a tensor of ``x_shape`` on ``y``'s device and dtype.
    """
    with torch.enable_grad():
        x = torch.zeros(tuple(x_shape), dtype=y.dtype, device=y.device, requires_grad=True)
        out = forward(x)
        (grad,) = torch.autograd.grad(out, x, grad_outputs=y, create_graph=y.requires_grad)
    return grad
