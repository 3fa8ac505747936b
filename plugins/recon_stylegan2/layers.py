"""StyleGAN2 building blocks: equalized-learning-rate layers and modulated convolution.

Conventions shared by every layer here (Karras et al. 2020, "Analyzing and Improving the
Image Quality of StyleGAN"; written from the paper, informed by NVlabs/stylegan2-ada-pytorch):

* **Equalized learning rate.** Parameters are stored as N(0, 1) (divided by ``lr_multiplier``)
  and scaled at run time by ``lr_multiplier / sqrt(fan_in)``, so Adam sees the same dynamic
  range in every layer.
* **Activation.** Leaky ReLU (slope 0.2) multiplied by ``sqrt(2)`` so unit-variance
  activations stay unit variance; the bias is added before the activation.
* **Resampling.** The paper uses a [1, 3, 3, 1] FIR filter. Upsampling here is
  ``F.interpolate(mode="bilinear", align_corners=False)``, which *is* zero insertion followed
  by the separable [1, 3, 3, 1]/4 filter (only the border handling differs: edge replication
  instead of zero padding), and it is fast on CPU. Downsampling blurs with the normalised
  [1, 3, 3, 1] x [1, 3, 3, 1] kernel before the stride-2 step. No custom CUDA ops.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)

__all__ = [
    "EqualLinear",
    "EqualConv2d",
    "MinibatchStd",
    "modulated_conv2d",
    "normalize_2nd_moment",
    "upsample2x",
    "downsample2x",
    "blur",
]


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Pixel norm: scale ``x`` so its mean square along ``dim`` is 1."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


def _act(x: torch.Tensor, activation: str, gain: float = 1.0) -> torch.Tensor:
    if activation == "lrelu":
        return F.leaky_relu(x, LRELU_SLOPE) * (LRELU_GAIN * gain)
    if activation == "linear":
        return x * gain if gain != 1.0 else x
    raise ValueError(f"unknown activation {activation!r} (expected 'lrelu' or 'linear')")


def _fir_kernel(device=None, dtype=None) -> torch.Tensor:
    k = torch.tensor([1.0, 3.0, 3.0, 1.0], device=device, dtype=dtype)
    k = torch.outer(k, k)
    return k / k.sum()


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """2x upsampling, equivalent to the [1, 3, 3, 1] FIR upsampler away from the borders."""
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


def blur(x: torch.Tensor, pad: tuple[int, int, int, int]) -> torch.Tensor:
    """Depthwise [1, 3, 3, 1]^2 low-pass filter with explicit ``(left, right, top, bottom)`` pad."""
    c = x.shape[1]
    k = _fir_kernel(x.device, x.dtype).expand(c, 1, 4, 4)
    return F.conv2d(F.pad(x, pad), k, groups=c)


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    """Anti-aliased 2x downsampling (blur, then keep every second pixel): H -> H/2."""
    c = x.shape[1]
    k = _fir_kernel(x.device, x.dtype).expand(c, 1, 4, 4)
    return F.conv2d(F.pad(x, (1, 1, 1, 1)), k, stride=2, groups=c)


class EqualLinear(nn.Module):
    """Fully connected layer with equalized learning rate and an optional lr multiplier."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        bias_init: float = 0.0,
        lr_multiplier: float = 1.0,
        activation: str = "linear",
    ):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.bias * self.bias_gain if self.bias is not None else None
        return _act(F.linear(x, self.weight * self.weight_gain, b), self.activation)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, activation={self.activation}"


class EqualConv2d(nn.Module):
    """Conv layer with equalized learning rate; ``down=2`` blurs then strides (the D side).

    ``forward(x, gain)`` multiplies the activated output by ``gain`` (residual branches use
    ``sqrt(0.5)`` so the sum keeps unit variance).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str = "linear",
        down: int = 1,
    ):
        super().__init__()
        if down not in (1, 2):
            raise ValueError("down must be 1 or 2")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.down, self.activation = kernel_size, down, activation
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = self.weight * self.weight_gain
        k = self.kernel_size
        if self.down == 1:
            x = F.conv2d(x, w, self.bias, padding=k // 2)
        elif k == 1:
            x = F.conv2d(downsample2x(x), w, self.bias)
        else:
            # Blur (4 taps, padded so H -> H + k - 2), then a stride-2 valid convolution
            # (H + k - 2 -> H / 2). For k = 3 output o is centred on input 2o + 0.5, as it
            # should be for a 2x decimation.
            a = (k + 1) // 2
            x = blur(x, (a, k + 1 - a, a, k + 1 - a))
            x = F.conv2d(x, w, self.bias, stride=2)
        return _act(x, self.activation, gain)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"down={self.down}, activation={self.activation}"
        )


def _at_least_fp32(t: torch.Tensor) -> torch.Tensor:
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    demodulate: bool = True,
    fused: bool = True,
    noise: torch.Tensor | None = None,
    eps: float = 1e-8,
) -> torch.Tensor:
    """Modulated convolution with optional weight demodulation (StyleGAN2, Sec. 2.2).

    Args:
        x: ``(N, I, H, W)`` input activations.
        weight: ``(O, I, k, k)`` base weight, already multiplied by its equalized-lr gain.
        styles: ``(N, I)`` per-sample scales of the input channels.
        demodulate: divide every output channel's modulated weight by its L2 norm, so that a
            unit-variance input gives a unit-variance output whatever the style magnitude.
        fused: ``True`` builds per-sample weights and runs one grouped convolution
            (``groups=N``); ``False`` scales activations before and after a shared convolution.
            Both compute the same function.
        noise: optional tensor added to the output (after demodulation).

    Returns ``(N, O, H, W)`` (``padding = k // 2``). The modulation weights are computed in
    fp32; the styles are divided by their max-abs per sample first, which leaves the
    demodulated result unchanged but keeps fp16 activations from overflowing.
    """
    n, in_ch, h, w_ = x.shape
    out_ch, _, kh, kw = weight.shape
    if styles.shape != (n, in_ch):
        raise ValueError(f"styles must be {(n, in_ch)}, got {tuple(styles.shape)}")
    styles = _at_least_fp32(styles)
    weight = _at_least_fp32(weight)
    if demodulate:
        # Demodulation makes the output invariant to the scale of the styles, so a detached
        # normaliser changes neither the value nor the gradient.
        styles = styles / styles.detach().abs().amax(dim=1, keepdim=True).clamp_min(eps)
    pad = kh // 2

    if fused:
        wmod = weight.unsqueeze(0) * styles.reshape(n, 1, in_ch, 1, 1)  # (N, O, I, k, k)
        if demodulate:
            wmod = wmod * (wmod.square().sum(dim=(2, 3, 4), keepdim=True) + eps).rsqrt()
        y = F.conv2d(
            x.reshape(1, n * in_ch, h, w_),
            wmod.reshape(n * out_ch, in_ch, kh, kw).to(x.dtype),
            padding=pad,
            groups=n,
        )
        y = y.reshape(n, out_ch, *y.shape[2:])
    else:
        y = F.conv2d(x * styles.to(x.dtype).reshape(n, in_ch, 1, 1), weight.to(x.dtype), padding=pad)
        if demodulate:
            # ||w_o * s||^2 = sum_i s_i^2 * sum_kk w_oi^2, computed without the (N, O, I, k, k) tensor.
            dcoef = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + eps).rsqrt()  # (N, O)
            y = y * dcoef.to(y.dtype).reshape(n, out_ch, 1, 1)
    if noise is not None:
        y = y + noise.to(y.dtype)
    return y


class MinibatchStd(nn.Module):
    """Minibatch standard deviation layer (Karras et al. 2018), appended as extra channels.

    Samples are split into groups of ``group_size`` (fewer when the batch is smaller or not
    divisible: the largest divisor of N not above ``group_size`` is used, so odd batch sizes
    such as a shrunk regularization batch work). For each group the per-feature standard
    deviation over the group is averaged over ``C/num_channels`` channels and all pixels.
    """

    def __init__(self, group_size: int = 4, num_channels: int = 1):
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = max(1, min(self.group_size, n))
        while n % g:
            g -= 1
        f = self.num_channels
        y = x.reshape(g, n // g, f, c // f, h, w).float()
        y = (y - y.mean(dim=0)).square().mean(dim=0)  # variance over the group: (n/g, F, c/F, H, W)
        y = (y + 1e-8).sqrt().mean(dim=(2, 3, 4))  # (n/g, F)
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w).to(x.dtype)  # sample i belongs to group i % (n/g)
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"
