"""``recon predict`` for ``inpainting``: fill the hole of a 2D image.

The hole comes from a mask image next to the input, ``<stem>_mask.png`` (white / non-zero =
hole; any size-matching PNG/JPEG/TIFF with the same stem and ``_mask`` suffix), and when
there is none, from the task's centre mask (``mask.size`` of the training config). Known
pixels are copied unchanged; the output has the input's size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from recon.api import RunConfig
from recon.api import IMAGE_SUFFIXES, is_image, read_image, write_image
from recon.api import DataError, UsageError
from recon_inpainting.fill import apply_mask
from recon_inpainting.masks import center_mask


def find_mask(input_path: Path) -> Path | None:
    """``<stem>_mask.png`` (or another image suffix) beside ``input_path``, if it exists."""
    for suffix in (".png", input_path.suffix, *IMAGE_SUFFIXES):
        candidate = input_path.with_name(f"{input_path.stem}_mask{suffix}")
        if candidate.is_file():
            return candidate
    return None


def read_mask(path: Path, h: int, w: int) -> torch.Tensor:
    """A mask image as ``(1, H, W)`` float {0, 1} (1 = hole: pixels brighter than half range)."""
    array = read_image(path).array.mean(0)
    if array.shape != (h, w):
        raise DataError(f"{path}: mask is {array.shape[0]}x{array.shape[1]}, the image is {h}x{w}")
    hole = torch.from_numpy((array > 0.5).astype(np.float32))[None]
    if not hole.any():
        raise DataError(f"{path}: the mask has no hole (no pixel brighter than half range)")
    return hole


@torch.no_grad()
def predict_file(parts: Any, cfg: RunConfig, input_path: Path, output_path: Path,
                 device: torch.device) -> Path:
    """Inpaint ``input_path`` (PNG/JPEG/TIFF) into ``output_path`` with ``parts.generator``;
    returns the path written."""
    if not is_image(input_path):
        raise DataError(f"{input_path}: inpainting takes a 2D image (PNG/JPEG/TIFF)")
    if not is_image(output_path):
        raise UsageError(f"{output_path}: the output must be an image file (.png, .jpg, .tif)")
    array = read_image(input_path).array  # a flat image is fine here: only NaN/Inf are refused
    if not np.isfinite(array).all():
        raise DataError(f"{input_path}: contains NaN or Inf values")
    channels = cfg.data.channels
    if array.shape[0] != channels:
        array = array.mean(0, keepdims=True) if channels == 1 else np.repeat(array[:1], 3, axis=0)
    h, w = array.shape[-2:]
    if cfg.model.arch == "context_encoder" and (h, w) != (cfg.data.patch_size,) * 2:
        raise UsageError(f"this context encoder works on {cfg.data.patch_size}x{cfg.data.patch_size} images; "
                         f"{input_path} is {h}x{w} (crop or resize it)")
    mask_path = find_mask(input_path)
    mask = read_mask(mask_path, h, w) if mask_path is not None else center_mask(h, w, cfg.mask.size)
    target = torch.from_numpy(np.ascontiguousarray(array))
    batch = {"input": apply_mask(target, mask, cfg.mask.fill)[None].to(device), "mask": mask[None].to(device)}
    out = parts.postprocess(parts.generate(parts.generator, batch))[0]
    return write_image(output_path, out.float().cpu().numpy())
