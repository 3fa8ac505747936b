"""Sampling a trained generator: latents per seed, batches of images, PNG files, sample grids.

Range convention: the generator works in [-1, 1] (as StyleGAN2); everything here that
leaves the task (PNGs, metrics, sample grids) is mapped to [0, 1] by ``(x + 1) / 2`` and
clamped (:func:`to_unit`).

Determinism: latent ``i`` of seed ``s`` is drawn on the CPU from its own generator seeded
by ``(s, i)``, so it is the same on every device and for every ``-n`` (the first ``k`` of
``-n 2k`` images are the images of ``-n k``). Random noise inputs, where used, come from
torch's global RNG forked and seeded from ``s`` and the batch, so the caller's RNG stream is
left untouched (with ``noise_mode="const"`` the noise is the generator's fixed buffers).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recon.api import indexed_latents, signed_to_unit, unwrap_module

if TYPE_CHECKING:
    from recon_stylegan2.networks import Generator

__all__ = ["unwrap", "latents", "labels_for", "one_hot", "to_unit", "sample_batch", "generate_samples", "write_pngs",
           "sample_panels"]

# shared with every unconditional task (recon.generation), under the names this plugin uses
unwrap, latents, to_unit = unwrap_module, indexed_latents, signed_to_unit


def one_hot(labels: Tensor, c_dim: int) -> Tensor:
    """Class indices ``(N,)`` -> one-hot float ``(N, c_dim)``."""
    return F.one_hot(labels.long(), c_dim).float()


def labels_for(c_dim: int, indices: range, label: int | None = None) -> Tensor | None:
    """The one-hot labels of samples ``indices`` of a conditional generator (``None`` when
    ``c_dim == 0``): class ``label`` for all, or class ``i % c_dim`` for sample ``i`` (so a set
    of samples covers every class evenly, and sample ``i`` depends on (seed, i) only)."""
    if c_dim <= 0:
        return None
    classes = torch.full((len(indices),), label) if label is not None else torch.tensor(list(indices)) % c_dim
    return one_hot(classes, c_dim)


@contextlib.contextmanager
def seeded_global_rng(seed: int, device: torch.device) -> Iterator[None]:
    """Fork torch's global RNG (CPU, and ``device`` if CUDA), seed it, restore it afterwards."""
    devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def sample_batch(generator: nn.Module, indices: range, seed: int, device: torch.device,
                 truncation_psi: float = 1.0, truncation_cutoff: int = 0, noise_mode: str = "random",
                 label: int | None = None) -> Tensor:
    """Samples ``indices`` of ``seed`` (eval mode): ``(len(indices), C, R, R)`` CPU tensor in [0, 1].

    Latent ``i`` depends on (seed, i) only; the noise inputs come from the global RNG seeded
    with (seed, first index) inside a fork, so the caller's RNG is never touched. A conditional
    generator gets class ``label``, or class ``i % c_dim`` for sample ``i`` (:func:`labels_for`).
    """
    G = cast("Generator", unwrap(generator))
    z = latents(G.z_dim, seed, indices.start, len(indices)).to(device)
    c = labels_for(int(getattr(G, "c_dim", 0)), indices, label)
    c = c.to(device) if c is not None else None
    was_training = G.training
    G.eval()
    try:
        with torch.no_grad(), seeded_global_rng((seed * 7_919 + indices.start) % (2**63 - 1), device):
            args = (z,) if c is None else (z, c)  # an unconditional G is called as before
            images = G(*args, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff or None,
                       noise_mode=noise_mode)
    finally:
        G.train(was_training)
    return to_unit(images).cpu()


def generate_samples(generator: nn.Module, n: int, seed: int, device: torch.device, batch_size: int = 32,
                     truncation_psi: float = 1.0, truncation_cutoff: int = 0,
                     noise_mode: str = "random", label: int | None = None) -> Iterator[Tensor]:
    """Yield ``n`` samples of ``generator`` in batches of ``batch_size`` (:func:`sample_batch`)."""
    for start in range(0, n, batch_size):
        yield sample_batch(generator, range(start, min(start + batch_size, n)), seed, device,
                           truncation_psi, truncation_cutoff, noise_mode, label)


def write_pngs(images: Tensor, out_dir: Path, start: int = 0) -> list[Path]:
    """Save ``(b, C, H, W)`` images in [0, 1] as 8-bit PNGs ``{start + i:06d}.png`` (gray or RGB)."""
    from PIL import Image

    paths = []
    arrays = (images.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for i, array in enumerate(arrays):
        path = out_dir / f"{start + i:06d}.png"
        Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(path)
        paths.append(path)
    return paths


def sample_panels(fake: Tensor, real: Tensor, min_size: int = 64) -> list[Tensor]:
    """Columns for ``samples/*.png``: column ``j`` holds generated ``j`` above real ``j``.

    ``fake`` and ``real`` are ``(N, C, R, R)`` in [0, 1]; images are enlarged (nearest) to at
    least ``min_size`` pixels so small resolutions stay visible. Returns ``N`` tensors of
    shape ``(2, C, S, S)``: the grid's first row shows samples, the second real images.
    """
    n = min(fake.shape[0], real.shape[0])
    fake, real = fake[:n].float().cpu(), real[:n].float().cpu().clamp(0, 1)
    factor = max(1, -(-min_size // fake.shape[-1]))
    if factor > 1:
        fake = F.interpolate(fake, scale_factor=factor, mode="nearest")
        real = F.interpolate(real, scale_factor=factor, mode="nearest")
    return [torch.stack([fake[j], real[j]]) for j in range(n)]
