"""BT.601 luma as MATLAB's ``rgb2ycbcr`` computes it (the SR papers' Y channel).

kornia's ``rgb_to_ycbcr`` is not used: it implements full-range JPEG YCbCr
(Y = 0.299 R + 0.587 G + 0.114 B in [0, 1]), whereas the SR convention is MATLAB's
studio-range BT.601 (Y in [16, 235]), which is what BasicSR's ``bgr2ycbcr(y_only=True)``
reproduces.
"""

from __future__ import annotations

from typing import TypeVar

#: MATLAB rgb2ycbcr row for Y, for R, G, B in [0, 1]; the offset is 16.
Y_COEFFS: tuple[float, float, float] = (65.481, 128.553, 24.966)
Y_OFFSET: float = 16.0

ArrayT = TypeVar("ArrayT")


def rgb_to_y(rgb: ArrayT) -> ArrayT:
    """BT.601 Y in [16, 235] from RGB in [0, 1].

    Args:
        rgb: ``(..., 3, H, W)`` channel-first RGB in [0, 1]; a NumPy array or a torch tensor.

    Returns:
        ``(..., H, W)`` Y = 16 + 65.481 R + 128.553 G + 24.966 B, the same array type as the
        input (tensors keep their device; integer input is promoted to float).
    """
    shape = tuple(rgb.shape)  # type: ignore[attr-defined]
    if len(shape) < 3 or shape[-3] != 3:
        from recon.errors import UsageError

        raise UsageError(f"rgb_to_y expects channel-first RGB (..., 3, H, W), got shape {shape}")
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]  # type: ignore[index]
    cr, cg, cb = Y_COEFFS
    return Y_OFFSET + cr * r + cg * g + cb * b  # type: ignore[return-value]
