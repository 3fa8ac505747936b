"""``torch.backends.cudnn.benchmark`` for runs whose training shapes never change.

With ``benchmark`` on, cuDNN times its convolution algorithms on the first batch of each
shape and keeps the fastest; that pays off only when the shapes repeat. A recon training
batch always has one shape (``trainer.batch_size`` full batches of ``data.patch_size``
patches: :class:`recon.train.sampler.StepBatchSampler` drops nothing and patches of
different sizes are refused), so the trainer turns it on when the run is on CUDA and trains
on fixed-size patches (``data.patch_size > 0``). Whole-image training (``patch_size=0``)
keeps cuDNN's default: validation images of many sizes would each be re-timed.

``RECON_CUDNN_BENCHMARK=0`` (or ``1``) overrides the choice. CPU runs never touch the flag,
so their results are unchanged.
"""

from __future__ import annotations

import os
from typing import Any

import torch

ENV = "RECON_CUDNN_BENCHMARK"


def wants_benchmark(device: torch.device, cfg: Any) -> bool:
    """True when ``cudnn.benchmark`` should be on for a run of ``cfg`` on ``device``."""
    if device.type != "cuda":
        return False
    forced = os.environ.get(ENV, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    size = getattr(getattr(cfg, "data", None), "patch_size", 0) or 0
    sizes = list(size) if isinstance(size, (list, tuple)) else [size]
    return all(int(s) > 0 for s in sizes)


def configure(device: torch.device, cfg: Any) -> bool:
    """Set ``torch.backends.cudnn.benchmark`` for a CUDA run (CPU: untouched). Returns the choice."""
    choice = wants_benchmark(device, cfg)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = choice
    return choice
