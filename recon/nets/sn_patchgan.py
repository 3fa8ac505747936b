"""The SN-PatchGAN discriminator of DeepFill v2 (Yu et al. 2019, *Free-Form Image Inpainting
with Gated Convolution*, ICCV)."""

from __future__ import annotations

from torch import Tensor, nn

from recon.nets.spectral import apply_spectral_norm


class SNPatchGANDiscriminator(nn.Module):
    """SN-PatchGAN: ``num_layers`` 5x5 stride-2 convolutions, each spectrally normalised and
    followed by LeakyReLU(0.2), channels ``base_channels`` x (1, 2, 4, 4, 4, 4); no
    normalisation layer. Every element of the output feature map is a GAN score (the paper
    flattens it and applies the hinge loss to all of them), so it judges overlapping patches
    whose receptive field grows with depth instead of the whole image.

    As in the released DeepFill v2 code, the last convolution is followed by the LeakyReLU too
    and the feature map keeps its ``4 x base_channels`` channels. The input is the image and
    the hole mask concatenated (``in_channels = C + 1``; DeepFill v2's D sees the mask), at any
    size: each layer halves it, rounding up (``"SAME"`` padding).

    Args:
        in_channels: input channels (image channels + 1 for the mask).
        base_channels: width of the first layer (64 in the paper).
        num_layers: strided convolutions (6 in the paper, for 256x256 images: a 4x4 map).

    Shapes: ``(N, in_channels, H, W) -> (N, base_channels * min(2**(num_layers-1), 4),
    ceil(H / 2**num_layers), ceil(W / 2**num_layers))``.
    """

    def __init__(self, in_channels: int = 4, base_channels: int = 64, num_layers: int = 6) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        layers: list[nn.Module] = []
        channels = in_channels
        for i in range(num_layers):
            out = base_channels * min(2**i, 4)
            layers += [nn.Conv2d(channels, out, 5, 2, 2), nn.LeakyReLU(0.2, inplace=True)]
            channels = out
        self.model = apply_spectral_norm(nn.Sequential(*layers))

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)
