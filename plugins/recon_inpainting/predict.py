"""``recon predict`` for ``inpainting``: fill the hole of a 2D image.

The hole comes from ``--mask`` (``mask.file``: an image, or a folder holding
``<stem>_mask.png`` per input) or from a mask image next to the input, ``<stem>_mask.png``
(white / non-zero = hole; any size-matching PNG/JPEG/TIFF with the same stem and ``_mask``
suffix). Without one the prediction is refused: a guessed hole would fill real anatomy.
Known pixels are copied unchanged; the output has the input's size, format and bit depth
(:func:`recon.api.write_like`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from recon.api import RunConfig
from recon.api import IMAGE_SUFFIXES, is_image, read_image, write_like
from recon.api import DataError, UsageError
from recon_inpainting.fill import apply_mask


def find_mask(input_path: Path, given: str = "") -> Path | None:
    """The hole mask of ``input_path``: ``given`` (a file, or a folder searched for
    ``<stem>_mask.*``), else ``<stem>_mask.png`` (or another image suffix) beside the input."""
    if given and Path(given).is_file():
        return Path(given)
    folder = Path(given) if given else input_path.parent
    for suffix in (".png", input_path.suffix, *IMAGE_SUFFIXES):
        candidate = folder / f"{input_path.stem}_mask{suffix}"
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
    image = read_image(input_path)
    array = image.array  # a flat image is fine here: only NaN/Inf are refused
    if not np.isfinite(array).all():
        raise DataError(f"{input_path}: contains NaN or Inf values")
    channels = cfg.data.channels
    if array.shape[0] != channels:
        array = array.mean(0, keepdims=True) if channels == 1 else np.repeat(array[:1], 3, axis=0)
    h, w = array.shape[-2:]
    if cfg.model.arch == "context_encoder" and (h, w) != (cfg.data.patch_size,) * 2:
        raise UsageError(f"this context encoder works on {cfg.data.patch_size}x{cfg.data.patch_size} images; "
                         f"{input_path} is {h}x{w} (crop or resize it)")
    mask_path = find_mask(input_path, cfg.mask.file)
    if mask_path is None:
        raise UsageError(f"{input_path}: no hole mask; pass --mask FILE or put {input_path.stem}_mask.png beside it")
    mask = read_mask(mask_path, h, w)
    target = torch.from_numpy(np.ascontiguousarray(array))
    batch = {"input": apply_mask(target, mask, cfg.mask.fill)[None].to(device), "mask": mask[None].to(device)}
    out = parts.postprocess(parts.generate(parts.generator, batch))[0].float().cpu().numpy()
    if out.shape[0] != image.channels:  # a gray input stays gray through an RGB model
        out = out.mean(0, keepdims=True)
    if image.norm.get("method") == "dtype":  # back to the file's integer units
        out = out * float(image.norm["scale"])
    return write_like(output_path, out, image.affine, image, "recon predict: inpainting",
                      unit_range=image.norm.get("method") != "dtype")
