"""Mixed precision: autocast contexts and one gradient scaler per network.

``trainer.precision``:

* ``fp32`` - no autocast, no loss scaling.
* ``bf16`` - ``torch.autocast(dtype=bfloat16)``; bf16 has fp32's exponent range, so no
  loss scaling is needed (CPU, and CUDA GPUs from Ampere on).
* ``fp16`` - ``torch.autocast(dtype=float16)`` plus one ``GradScaler`` per network (G and D
  see gradients of very different sizes, so each keeps its own scale); the scalers' state is
  part of every checkpoint.

Gradient penalties (R1, WGAN-GP, path length) are computed in fp32 by the phases whatever
the precision: a gradient of a gradient in fp16 underflows.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, ContextManager

import torch

from recon.errors import ConfigError

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device: torch.device, precision: str, enabled: bool = True) -> ContextManager:
    """Autocast for ``bf16``/``fp16``; a no-op context for ``fp32`` or ``enabled=False``.

    ``enabled=False`` inside an autocast region switches it off (fp32 for a penalty pass).
    """
    if precision == "fp32":
        return contextlib.nullcontext()
    if not enabled:
        return torch.autocast(device_type=device.type, enabled=False)
    return torch.autocast(device_type=device.type, dtype=DTYPES[precision])


def check_precision(device: torch.device, precision: str) -> None:
    """Refuse a precision the device cannot run (``ConfigError``)."""
    if precision not in DTYPES:
        raise ConfigError(f"unknown trainer.precision '{precision}'; valid: {', '.join(DTYPES)}")
    if device.type == "cuda" and precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise ConfigError(f"trainer.precision=bf16 needs a GPU with bf16 support (Ampere or newer); "
                          f"{torch.cuda.get_device_name(device)} has none: use fp16 or fp32")
    if device.type == "cpu" and precision == "fp16":
        print("recon: trainer.precision=fp16 on a CPU is slow and only useful for tests; bf16 is the "
              "CPU's mixed precision", file=sys.stderr)


class _Scaler(torch.amp.GradScaler):
    """``GradScaler`` whose ``load_state_dict`` accepts the empty state of a disabled scaler.

    A run saved in fp32/bf16 holds empty scaler states; resuming it with
    ``trainer.precision=fp16`` starts the scalers fresh instead of failing.
    """

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not state_dict:
            return
        super().load_state_dict(state_dict)


def make_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """A GradScaler that is enabled only for fp16 (bf16 and fp32 need no loss scaling)."""
    return _Scaler(device.type, enabled=(precision == "fp16"))


#: memory format per tensor rank: NHWC for 2D images, NDHWC for volumes
CHANNELS_LAST = {4: torch.channels_last, 5: torch.channels_last_3d}


def to_channels_last(module: torch.nn.Module) -> torch.nn.Module:
    """Channels-last weights: NHWC for 2D networks, NDHWC for 3D ones (by the widest weight)."""
    rank = max((p.dim() for p in module.parameters()), default=0)
    return module.to(memory_format=CHANNELS_LAST[rank]) if rank in CHANNELS_LAST else module
