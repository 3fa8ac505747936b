"""StyleGAN2 regularizers: R1 gradient penalty and path length regularization.

Both are *lazy* in StyleGAN2: evaluated every ``k`` steps (R1: 16, path length: 4) on their
own minibatch and multiplied by ``k`` so their average strength is unchanged; Adam's
hyper-parameters are rescaled by ``k / (k + 1)`` (:func:`lazy_regularization_adam`). The
trainer owns that schedule; these helpers only compute the penalties.

Precision: gradient penalties are computed in fp32. ``r1_penalty`` casts the logits to fp32,
differentiates them, and squares and sums the gradient in fp32; with fp16 autocast pass
``grad_scale`` (e.g. ``scaler.get_scale()``) so that small input gradients do not underflow
in the fp16 backward (bf16 has the fp32 exponent range and does not need it).
``PathLengthRegularizer`` runs its whole generator pass with autocast disabled, so the
Jacobian-vector product and the EMA are pure fp32 whatever the caller's precision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from recon_stylegan2.networks import Generator

__all__ = ["r1_penalty", "r1_gamma_heuristic", "PathLengthRegularizer", "lazy_regularization_adam"]


def r1_penalty(
    real_logits: torch.Tensor,
    real_images: torch.Tensor,
    gamma: float = 10.0,
    grad_scale: float = 1.0,
) -> torch.Tensor:
    """R1 penalty (Mescheder et al. 2018): ``gamma / 2 * ||grad_x D(x)||^2`` per real sample.

    Args:
        real_logits: ``D(real_images)``, shape ``(N,)`` or ``(N, 1)``, still attached to the graph.
        real_images: the ``(N, ...)`` tensor D was applied to, with ``requires_grad=True``
            (``real.detach().requires_grad_(True)`` before the forward pass; when ADA is on,
            the *un-augmented* images, so the gradient flows through the augmentation).
        gamma: the R1 weight. Paper values: 10 (FFHQ 1024); stylegan2-ada's heuristic is
            :func:`r1_gamma_heuristic`. ``gamma=2`` returns the plain squared gradient norm.
        grad_scale: multiply the logits by this before differentiating and divide the gradient
            by it afterwards (fp16 autocast loss scaling; 1 for fp32/bf16).

    Returns ``(N,)`` fp32: ``gamma / 2 * sum_{c,h,w} (dD/dx)^2``, built with ``create_graph``
    so ``.mean().backward()`` trains D. Multiply by the lazy interval in the trainer.
    """
    if not real_images.requires_grad:
        raise ValueError("real_images must require grad (use x.detach().requires_grad_(True) before D(x))")
    out = real_logits.float().sum()
    if grad_scale != 1.0:
        out = out * grad_scale
    (grad,) = torch.autograd.grad(outputs=out, inputs=real_images, create_graph=True, only_inputs=True)
    grad = grad.float()
    if grad_scale != 1.0:
        grad = grad / grad_scale
    return grad.square().flatten(1).sum(dim=1) * (gamma / 2.0)


def r1_gamma_heuristic(resolution: int, batch_size: int) -> float:
    """stylegan2-ada's ``auto`` R1 weight: ``0.0002 * resolution^2 / batch_size``."""
    return 0.0002 * resolution**2 / batch_size


def lazy_regularization_adam(lr: float, betas: tuple[float, float], interval: int) -> tuple[float, tuple[float, float]]:
    """Adam settings for a network whose regularizer runs every ``interval`` steps (paper App. B)."""
    if interval <= 1:
        return lr, betas
    ratio = interval / (interval + 1)
    return lr * ratio, (betas[0] ** ratio, betas[1] ** ratio)


def _unwrap(module: nn.Module) -> nn.Module:
    """The bare module under DDP (``.module``) / ``torch.compile`` (``._orig_mod``) wrappers."""
    while True:
        inner = getattr(module, "module", None) or getattr(module, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return module
        module = inner


class PathLengthRegularizer(nn.Module):
    """Path length regularization (StyleGAN2, Sec. 3.2), with its EMA as checkpointed state.

    For ``y ~ N(0, I) / sqrt(H W)`` the Jacobian-vector length ``a = ||J_w^T y||`` (norm over
    ``w_dim``, mean of squares over the ``num_ws`` layers, then sqrt) is pulled towards its
    running mean: ``penalty = pl_weight * mean_n (a_n - pl_mean)^2``, with
    ``pl_mean <- pl_mean + pl_decay * (mean(a) - pl_mean)`` (an EMA, decay 0.01).

    ``forward(G, z_or_ws_or_batch, c=None)`` returns the scalar penalty on the first
    ``N // batch_shrink`` samples. With ``z`` (or a batch) the latents go through ``G``'s
    mapping, style mixing included as in training; given ``ws`` are used as they are (keep
    them attached to the mapping's graph to regularize the mapping too). ``G`` is called as
    ``G(z, c, return_ws=True)`` / ``G(ws=ws, return_ws=True)``, so a DDP-wrapped or compiled
    generator works. The pass runs with autocast disabled (fp32).

    ``pl_mean`` is a buffer: it is in ``state_dict`` and resumes with the checkpoint.
    The returned loss includes ``0 * img[:, 0, 0, 0].sum()`` so it depends on the generator's
    forward output directly, as DDP's gradient reducer expects (stylegan2-ada does the same).
    """

    def __init__(self, pl_weight: float = 2.0, pl_decay: float = 0.01, batch_shrink: int = 2):
        super().__init__()
        if batch_shrink < 1:
            raise ValueError("batch_shrink must be >= 1")
        self.pl_weight, self.pl_decay, self.batch_shrink = float(pl_weight), float(pl_decay), int(batch_shrink)
        self.pl_mean: torch.Tensor
        self.register_buffer("pl_mean", torch.zeros([]))
        self.last_lengths: torch.Tensor | None = None  # detached (n,), for logging

    def forward(self, G: nn.Module, inputs: Tensor | Mapping[str, Any], c: Tensor | None = None) -> Tensor:
        """Penalty (scalar, fp32, already times ``pl_weight``) for ``G`` on ``inputs``.

        ``inputs`` is ``z (N, z_dim)``, ``ws (N, num_ws, w_dim)``, or a training batch
        (a mapping): its ``"z"`` entry if present, else ``N`` fresh normal latents, where
        ``N`` is the batch size of its first tensor; a ``"c"`` entry is used as the label.
        """
        z, ws = None, None
        if isinstance(inputs, Mapping):
            c = inputs.get("c", c)
            z = inputs.get("z")
            if z is None:
                ref = next((v for v in inputs.values() if isinstance(v, Tensor) and v.ndim > 0), None)
                if ref is None:
                    raise ValueError("the batch holds no tensor to take the batch size from")
                z = torch.randn(ref.shape[0], cast("Generator", _unwrap(G)).z_dim, device=ref.device)
        elif isinstance(inputs, Tensor) and inputs.ndim == 2:
            z = inputs
        elif isinstance(inputs, Tensor) and inputs.ndim == 3:
            ws = inputs
        else:
            raise ValueError("inputs must be z (N, z_dim), ws (N, num_ws, w_dim) or a batch mapping")
        ref = z if z is not None else ws
        assert ref is not None  # each branch above sets z or ws, or raises
        n = max(1, ref.shape[0] // self.batch_shrink)
        with torch.autocast(device_type=ref.device.type, enabled=False):
            if ws is None:
                assert z is not None  # (see above)
                img, ws_used = G(z[:n], None if c is None else c[:n], return_ws=True)
            else:
                ws_used = ws[:n]
                if not ws_used.requires_grad:
                    ws_used = ws_used.detach().requires_grad_(True)
                img, _ = G(ws=ws_used, return_ws=True)
            img = img.float()
            noise = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
            (grad,) = torch.autograd.grad(
                outputs=(img * noise).sum(), inputs=ws_used, create_graph=True, only_inputs=True
            )
            lengths = grad.float().square().sum(dim=2).mean(dim=1).sqrt()  # (n,)
            pl_mean = self.pl_mean.lerp(lengths.mean().detach(), self.pl_decay)
            self.pl_mean.copy_(pl_mean)
            self.last_lengths = lengths.detach()
            penalty = (lengths - pl_mean).square().mean() * self.pl_weight
        return penalty + img[:, 0, 0, 0].sum() * 0.0

    def extra_repr(self) -> str:
        return f"pl_weight={self.pl_weight}, pl_decay={self.pl_decay}, batch_shrink={self.batch_shrink}"
