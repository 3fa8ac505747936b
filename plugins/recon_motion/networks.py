"""The motion-correction generator: MONAI's ``BasicUNet`` with a residual output.

``corrected = input + UNet(input)``: the network predicts the artefact to remove, which is
what Johnson & Drangova 2019 and most motion-correction U-Nets learn. Inputs of any size are
padded (edge replication) to a multiple of 16, the product of ``BasicUNet``'s four poolings,
and the output is cropped back, so whole slices and odd-sized NIfTI planes work.
"""

from __future__ import annotations

from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

MULTIPLE = 16  # BasicUNet halves the resolution four times


def pad_to_multiple(x: Tensor, multiple: int = MULTIPLE) -> tuple[Tensor, tuple[int, int]]:
    """Pad ``(N, C, H, W)`` at the bottom/right by edge replication to multiples of ``multiple``.

    Returns the padded tensor and the original ``(H, W)``.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)


class ResidualUNet(nn.Module):
    """A 2D U-Net (``monai.networks.nets.BasicUNet``), optionally residual.

    When residual, the last 1x1 convolution starts at zero so the untrained network is the
    identity (its output equals the corrupted input, the baseline).

    Args:
        in_channels: channels of the input (1 for magnitude MRI).
        out_channels: channels of the output (= ``in_channels`` when residual).
        features: BasicUNet's six widths (four encoder levels, bottleneck, last decoder).
        norm: ``instance`` or ``batch``.
        residual: add the input to the output.

    Shapes: ``(N, C, H, W) -> (N, C_out, H, W)`` for any ``H, W >= 1``.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1,
                 features: Sequence[int] = (16, 16, 32, 64, 128, 16), norm: str = "instance",
                 residual: bool = True) -> None:
        super().__init__()
        from monai.networks.nets import BasicUNet

        if residual and in_channels != out_channels:
            raise ValueError("a residual U-Net needs in_channels == out_channels")
        norm_layer = ("instance", {"affine": True}) if norm == "instance" else ("batch", {})
        self.unet = BasicUNet(spatial_dims=2, in_channels=in_channels, out_channels=out_channels,
                              features=tuple(features), norm=norm_layer, upsample="deconv")
        self.residual = residual
        if residual:  # start as the identity: corrected == input until the network learns the artefact
            nn.init.zeros_(self.unet.final_conv.weight)
            nn.init.zeros_(self.unet.final_conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        padded, (h, w) = pad_to_multiple(x)
        out = self.unet(padded)[..., :h, :w]
        return x + out if self.residual else out
