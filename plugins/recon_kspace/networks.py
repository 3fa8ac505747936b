"""Generators for undersampled k-space reconstruction.

Common signature (both generators)::

    forward(zero_filled, kspace, mask, maps=None) -> (N, 2, H, W) real (real, imag channels)

    zero_filled: (N, 2, H, W) real — the zero-filled complex image (``to_channels`` of the
                 operator's pseudo-inverse); multi-coil: the SENSE-combined one.
    kspace:      measured (masked) k-space: complex (N, C, H, W); single-coil also complex
                 (N, H, W) or real (N, 2, H, W).
    mask:        (N|1, 1, H|1, W) (or (1, W) / (H, W)), nonzero = sampled.
    maps:        complex (N|1, C, H, W) coil maps, normalised sum_c |S_c|^2 = 1; None for
                 single-coil (and, for ``MonaiVarNet``, "estimate them").

``mask`` and ``maps`` are the parameters (:class:`recon.physics.FourierParams`) of the forward
operator :class:`recon.physics.MaskedFourier` that made ``kspace``; the networks apply that
operator (data consistency, the final SENSE combination) rather than FFTs of their own.

``CascadeNet`` (default generator): ``cascades`` x [residual U-Net on the 2-channel image ->
data-consistency layer], in the spirit of D5C5 (Schlemper et al. 2018) and DAGAN/RefineGAN
(Yang et al. 2018, Quan et al. 2018). Each U-Net sees its input normalised per sample (mean per
channel, one std), so the network is equivariant to the k-space scale (fastMRI k-space is ~1e-5,
simulated k-space ~1). ``magnitude`` gives the ``(N, 1, H, W)`` image for discriminators/metrics.

``MonaiVarNet``: MONAI 1.6's end-to-end VarNet (``VariationalNetworkModel`` with
``ComplexUnet`` refinement and ``CoilSensitivityModel``) behind the same signature; it returns
the SENSE-combined complex image instead of MONAI's RSS magnitude.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recon.api import UsageError

from recon.api import FourierParams, MaskedFourier, to_channels, to_complex

from .consistency import as_coil_kspace, as_mask, make_dc

__all__ = ["UNet", "CascadeNet", "MonaiVarNet", "magnitude", "build_generator"]


def magnitude(x: Tensor) -> Tensor:
    """``(N, 2, H, W)`` real/imag -> ``(N, 1, H, W)`` magnitude (gradient 0, not NaN, at 0)."""
    return to_complex(x, dim=1).abs().unsqueeze(1)


def _conv_block(c_in: int, c_out: int, convs: int, slope: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [
            nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1, bias=False),
            nn.InstanceNorm2d(c_out, affine=True),
            nn.LeakyReLU(slope, inplace=True),
        ]
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """Small fastMRI-style U-Net: ``depth`` 2x poolings, ``chans * 2**d`` channels at level ``d``.

    Each level has ``convs`` x (3x3 conv, InstanceNorm, LeakyReLU); average-pool down,
    transposed-conv up, skip concatenation, 1x1 output conv. Input H, W must be divisible by
    ``2**depth`` (``CascadeNet`` pads).
    """

    def __init__(self, in_ch: int = 2, out_ch: int = 2, chans: int = 16, depth: int = 2, convs: int = 2,
                 slope: float = 0.2):
        super().__init__()
        if chans < 1 or depth < 0 or convs < 1:
            raise UsageError(f"U-Net needs chans >= 1, depth >= 0, convs >= 1; got {chans}, {depth}, {convs}")
        self.depth = depth
        self.down = nn.ModuleList()
        c = in_ch
        for d in range(depth + 1):
            self.down.append(_conv_block(c, chans * 2**d, convs, slope))
            c = chans * 2**d
        self.up = nn.ModuleList()
        self.up_conv = nn.ModuleList()
        for d in reversed(range(depth)):
            c = chans * 2**d
            self.up.append(nn.ConvTranspose2d(2 * c, c, kernel_size=2, stride=2))
            self.up_conv.append(_conv_block(2 * c, c, convs, slope))
        self.out = nn.Conv2d(chans, out_ch, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = F.avg_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        skips.pop()
        for up, block in zip(self.up, self.up_conv, strict=True):
            x = block(torch.cat([up(x), skips.pop()], dim=1))
        return self.out(x)


class _NormResidual(nn.Module):
    """``x + std * net((x - mean) / std)`` with per-sample statistics; pads H, W to ``multiple``."""

    def __init__(self, net: nn.Module, multiple: int):
        super().__init__()
        self.net = net
        self.multiple = multiple

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = x.reshape(n, -1).std(dim=1, unbiased=False).reshape(n, 1, 1, 1).clamp_min(1e-12)
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        z = F.pad((x - mean) / std, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        r = self.net(z)[..., ph // 2 : ph // 2 + h, pw // 2 : pw // 2 + w]
        return x + r * std


class CascadeNet(nn.Module):
    """Cascade of residual U-Nets, each followed by data consistency (signature: module docstring).

    Args:
        cascades: number of U-Net + DC stages.
        chans, depth, convs: U-Net width, number of poolings, convs per level.
        dc: ``"hard"`` (replacement) or ``"soft"`` (learned ``lam``, one per cascade).
        init_lambda: starting ``lam`` of soft DC.
        share_weights: one U-Net reused by every cascade (fewer parameters, same compute).
        operator: the forward operator of the DC layers (default ``MaskedFourier()``).
    """

    def __init__(
        self,
        cascades: int = 3,
        chans: int = 16,
        depth: int = 2,
        convs: int = 1,
        dc: str = "hard",
        init_lambda: float = 10.0,
        share_weights: bool = False,
        operator: MaskedFourier | None = None,
    ):
        super().__init__()
        if cascades < 1:
            raise UsageError(f"cascades must be >= 1, got {cascades}")
        def block() -> nn.Module:
            return _NormResidual(UNet(2, 2, chans, depth, convs), 2**depth)

        if share_weights:
            shared = block()
            self.blocks = nn.ModuleList([shared] * cascades)
        else:
            self.blocks = nn.ModuleList([block() for _ in range(cascades)])
        self.dcs = nn.ModuleList([make_dc(dc, init_lambda, operator) for _ in range(cascades)])

    def forward(self, zero_filled: Tensor, kspace: Tensor, mask: Tensor, maps: Tensor | None = None) -> Tensor:
        k = as_coil_kspace(kspace)
        if zero_filled.ndim != 4 or zero_filled.shape[1] != 2 or tuple(zero_filled.shape[-2:]) != tuple(k.shape[-2:]):
            raise UsageError(f"zero_filled must be (N, 2, H, W) matching k-space {tuple(k.shape)}, "
                             f"got {tuple(zero_filled.shape)}")
        params = FourierParams(as_mask(mask, tuple(k.shape)).to(k.device), maps)
        x = zero_filled
        for block, dc in zip(self.blocks, self.dcs, strict=True):
            x = block(x)
            x = to_channels(dc(to_complex(x.float(), dim=1), k, params), dim=1)
        return x

    @staticmethod
    def magnitude(x: Tensor) -> Tensor:
        return magnitude(x)


def _column_mask(mask: Tensor) -> Tensor:
    """``(N|1, 1, H|1, W)`` float mask -> ``(N|1, W)`` bool, if it is column-constant (Cartesian)."""
    b = mask > 0.5
    if b.shape[-2] > 1 and not bool((b == b[..., :1, :]).all()):
        raise UsageError(
            "MONAI's VarNet estimates coil maps from a Cartesian (column) mask; pass coil maps for 2D masks"
        )
    return b[:, 0, 0, :]


class MonaiVarNet(nn.Module):
    """MONAI's end-to-end VarNet (Sriram et al. 2020) with the ``CascadeNet`` signature.

    Built from ``monai.apps.reconstruction.networks``: ``VariationalNetworkModel`` holding
    ``cascades`` ``VarNetBlock``s around a ``ComplexUnet`` (``features``, six ints as in MONAI's
    ``BasicUNet``) and a ``CoilSensitivityModel`` (``sens_features``). Differences from calling
    MONAI's ``forward`` directly, all at the boundary:

    * k-space is converted to MONAI's ``(N, C, H, W, 2)`` layout and the mask to a bool
      ``(N|1, 1, H|1, W, 1)`` tensor (MONAI's soft DC broadcasts it);
    * coil maps: given ``maps`` are used as is; single-coil k-space without maps uses unit maps
      (exact, and it works with 2D masks); otherwise MONAI's model estimates them per sample
      from its centre columns (its ``get_fully_sampled_region`` walks off the array for a fully
      sampled mask, so the walk is bounded here);
    * the output is the SENSE-combined complex image ``(N, 2, H, W)`` from the final k-space, not
      MONAI's RSS magnitude, so it plugs into the same losses and DC checks as ``CascadeNet``.

    ``zero_filled`` is accepted for signature compatibility and unused (VarNet starts from the
    measured k-space). Defaults are small for CPU; MONAI's own default is 12 cascades with
    features ``(32, 32, 64, 128, 256, 32)``.
    """

    def __init__(
        self,
        cascades: int = 4,
        features: Sequence[int] = (8, 8, 16, 32, 64, 8),
        sens_features: Sequence[int] = (4, 4, 8, 16, 32, 4),
        pad_factor: int = 16,
    ):
        super().__init__()
        from monai.apps.reconstruction.networks.nets.coil_sensitivity_model import CoilSensitivityModel
        from monai.apps.reconstruction.networks.nets.complex_unet import ComplexUnet
        from monai.apps.reconstruction.networks.nets.varnet import VariationalNetworkModel

        class _BoundedCoilSensitivityModel(CoilSensitivityModel):
            def get_fully_sampled_region(self, mask: Tensor) -> tuple[int, int]:
                cols = mask.reshape(-1)
                left = right = cols.numel() // 2
                while right < cols.numel() and cols[right]:
                    right += 1
                while left >= 0 and cols[left]:
                    left -= 1
                return left + 1, right

        if cascades < 1:
            raise UsageError(f"cascades must be >= 1, got {cascades}")
        self.model = VariationalNetworkModel(
            coil_sensitivity_model=_BoundedCoilSensitivityModel(spatial_dims=2, features=tuple(sens_features)),
            refinement_model=ComplexUnet(spatial_dims=2, features=tuple(features), pad_factor=pad_factor),
            num_cascades=cascades,
            spatial_dims=2,
        )

    def forward(self, zero_filled: Tensor, kspace: Tensor, mask: Tensor, maps: Tensor | None = None) -> Tensor:
        k = as_coil_kspace(kspace)
        m = as_mask(mask, tuple(k.shape)).to(k.device)
        k_ri = torch.view_as_real(k.to(torch.complex64)).contiguous()  # (N, C, H, W, 2)
        m_b = (m > 0.5).unsqueeze(-1)  # (N|1, 1, H|1, W, 1)
        if maps is None and k.shape[1] == 1:  # single-coil: the sensitivity is exactly 1
            maps = torch.ones(1, 1, *k.shape[-2:], dtype=torch.complex64, device=k.device)
        if maps is None:
            cols = _column_mask(m)
            sens = []
            for i in range(k.shape[0]):
                col = cols[min(i, cols.shape[0] - 1)].reshape(1, 1, 1, -1, 1)
                sens.append(self.model.coil_sensitivity_model(k_ri[i : i + 1], col))
            sens_ri = torch.cat(sens)
        else:
            if maps.ndim != 4 or maps.shape[1] != k.shape[1] or tuple(maps.shape[-2:]) != tuple(k.shape[-2:]):
                raise UsageError(f"coil maps {tuple(maps.shape)} do not match k-space {tuple(k.shape)} (N|1, C, H, W)")
            sens_ri = torch.view_as_real(maps.to(torch.complex64).expand(k.shape[0], -1, -1, -1)).contiguous()
        k_pred = k_ri.clone()
        for cascade in self.model.cascades:
            k_pred = cascade(k_pred, k_ri, m_b, sens_ri)
        # S^H F^H of the final k-space: the masked Fourier operator's SENSE combination
        k_final, maps_final = torch.view_as_complex(k_pred.contiguous()), torch.view_as_complex(sens_ri)
        image = MaskedFourier.from_kspace(k_final, maps_final)
        return to_channels(image, dim=1)


def build_generator(name: str = "cascade", **kwargs) -> nn.Module:
    """``"cascade"`` -> ``CascadeNet(**kwargs)``; ``"varnet"`` -> ``MonaiVarNet(**kwargs)``."""
    if name == "cascade":
        return CascadeNet(**kwargs)
    if name == "varnet":
        return MonaiVarNet(**kwargs)
    raise UsageError(f"unknown k-space generator {name!r}; choose 'cascade' or 'varnet'")
