"""The network input of ``inpainting`` (the measurement with its hole filled) and the composite.

Both are core's inpainting operator, :class:`recon.physics.Inpainting` (fills, pull-push and the
biharmonic baseline: :mod:`recon.physics.inpainting`). ``mask.fill`` picks the fill:

- ``zero``: the hole is 0 (Pathak et al. 2016 fill with the dataset mean; 0 is the usual choice
  of GAN inpainters).
- ``mean``: the per-image, per-channel mean of the known pixels.
- ``smooth``: pull-push (image pyramid) interpolation, a smooth first guess in milliseconds;
  with ``model.residual`` the generator learns a correction to it.
- ``biharmonic``: scikit-image's biharmonic inpainting, the ``biharmonic`` baseline itself. With
  ``model.residual`` the untrained generator *is* the classical baseline, and training can only
  have to improve on it.

Known pixels are never changed (``torch.where``), whatever the fill.
"""

from __future__ import annotations

from torch import Tensor

from recon.api import FILLS, Inpainting, InpaintingParams

__all__ = ["FILLS", "apply_mask", "composite"]


def apply_mask(image: Tensor, mask: Tensor, fill: str = "zero") -> Tensor:
    """The network input: ``A^+ A image``, ``image`` with the hole filled by ``fill`` (one of :data:`FILLS`).

    Args:
        image: ``(C, H, W)`` or ``(N, C, H, W)``.
        mask: ``(1, H, W)`` or ``(N, 1, H, W)``, 1 in the hole.

    Returns:
        A tensor like ``image``, equal to it outside the hole.
    """
    op, params = Inpainting(fill), InpaintingParams(mask)
    return op.pseudo_inverse(op(image, params), params)


def composite(generated: Tensor, mask: Tensor, known: Tensor) -> Tensor:
    """``mask * generated + (1 - mask) * known``: generated pixels in the hole only (the
    operator's data consistency, :meth:`recon.physics.Inpainting.keep_known`); known pixels are
    copied bit for bit."""
    return Inpainting.keep_known(generated, known, InpaintingParams(mask))
