"""Adaptive discriminator augmentation (ADA; Karras et al. 2020, "Training Generative
Adversarial Networks with Limited Data").

Two pieces:

* :class:`AugmentPipe` - a differentiable augmentation of ``(N, C, H, W)`` images in which
  every transform is applied to each sample independently with probability
  ``multiplier * p``. The ``bgc`` set of the paper: pixel blitting (x-flip, 90-degree
  rotations, integer translation), general geometry (isotropic scaling, rotation,
  anisotropic scaling, fractional translation) and colour (brightness, contrast, and for RGB
  luma flip, hue rotation, saturation). All geometric transforms of a sample are composed
  into one matrix and resampled once (bilinear, reflection padding, via kornia's
  ``warp_affine``), so augmentations do not blur each other; colour transforms are composed
  into one matrix too. Gradients flow to the input, so the generator trains through it.
* :class:`AdaptiveAugment` - owns ``p`` and adjusts it from the overfitting heuristic
  ``r_t = E[sign(D(x_real))]``: every ``interval`` updates, ``p += sign(r_t - target) *
  n_images / (speed_kimg * 1000)``, clamped to ``[0, p_max]``. ``p_max`` defaults to 0.85:
  the paper shows augmentations start to *leak* into generated images as ``p`` approaches 1
  (around 0.8-0.9 depending on the transform), so ``p`` is kept below that.

Why not ``kornia.augmentation`` modules: ADA needs a per-component probability driven by a
tensor ``p`` that changes every few steps (kornia's ``p`` is a Python float fixed per
module, and reading a device ``p`` back costs a sync), one resampling for the whole
geometric chain (separate kornia modules resample once each), zero-centred colour ops
without clamping (kornia's colour ops clip to [0, 1]) and the luma flip (absent). The
warp itself is kornia's.

Differences from the reference pipeline (documented in docs/stylegan2.md): bilinear
resampling without the 2x wavelet-filtered supersampling of stylegan2-ada (cheaper on CPU,
slightly softer for samples that are rotated or scaled); samples that receive no transform
are returned bit-exactly (p = 0 is the identity).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from . import ops

__all__ = ["AugmentPipe", "AdaptiveAugment", "PRESETS"]

_BLIT = ("xflip", "rotate90", "xint")
_GEOM = ("scale", "rotate", "aniso", "xfrac")
_COLOR = ("brightness", "contrast", "lumaflip", "hue", "saturation")

#: Probability multipliers of the paper's augmentation sets.
PRESETS: dict[str, tuple[str, ...]] = {
    "b": _BLIT,
    "g": _GEOM,
    "c": _COLOR,
    "bg": _BLIT + _GEOM,
    "bgc": _BLIT + _GEOM + _COLOR,
}


def _where(mask: Tensor, value: Tensor, default: float) -> Tensor:
    return torch.where(mask, value, torch.full_like(value, default))


class AugmentPipe(nn.Module):
    """Differentiable ADA augmentation: ``forward(images, p) -> images`` (same shape and dtype).

    Args:
        xflip ... saturation: probability multipliers (0 disables a transform; each sample
            gets transform ``t`` with probability ``t * p``).
        xint_max: integer translation range, fraction of the image size (uniform).
        scale_std, aniso_std: log2 standard deviations of the scale factors.
        rotate_max: rotation range, 1 = full circle (uniform in ``[-pi, pi] * rotate_max``);
            rotation is applied before and after the anisotropic scaling, each with
            probability ``1 - sqrt(1 - rotate * p)`` so that P(any rotation) = ``rotate * p``.
        xfrac_std: std of the fractional translation, fraction of the image size.
        brightness_std: std of the added offset; contrast_std, saturation_std: log2 stds;
            hue_max: hue rotation range, 1 = full circle.
        value_range: the images' range, ``(-1, 1)`` (default) or ``(0, 1)``; colour transforms
            act on the range mapped to [-1, 1] (centred at 0), the result is mapped back.
            Nothing is clamped.

    90-degree rotations of non-square images are restricted to 0 and 180 degrees.
    Luma flip, hue and saturation act on RGB only; for other channel counts (e.g. 1-channel
    medical images) only brightness and contrast are applied.
    """

    def __init__(
        self,
        xflip: float = 1.0,
        rotate90: float = 1.0,
        xint: float = 1.0,
        scale: float = 1.0,
        rotate: float = 1.0,
        aniso: float = 1.0,
        xfrac: float = 1.0,
        brightness: float = 1.0,
        contrast: float = 1.0,
        lumaflip: float = 1.0,
        hue: float = 1.0,
        saturation: float = 1.0,
        xint_max: float = 0.125,
        scale_std: float = 0.2,
        rotate_max: float = 1.0,
        aniso_std: float = 0.2,
        xfrac_std: float = 0.125,
        brightness_std: float = 0.2,
        contrast_std: float = 0.5,
        hue_max: float = 1.0,
        saturation_std: float = 1.0,
        value_range: Sequence[float] = (-1.0, 1.0),
    ):
        super().__init__()
        self.mult = {
            "xflip": float(xflip), "rotate90": float(rotate90), "xint": float(xint),
            "scale": float(scale), "rotate": float(rotate), "aniso": float(aniso), "xfrac": float(xfrac),
            "brightness": float(brightness), "contrast": float(contrast), "lumaflip": float(lumaflip),
            "hue": float(hue), "saturation": float(saturation),
        }  # fmt: skip
        if any(not 0.0 <= v <= 1.0 for v in self.mult.values()):
            raise ValueError("probability multipliers must be in [0, 1]")
        self.xint_max, self.scale_std, self.rotate_max = float(xint_max), float(scale_std), float(rotate_max)
        self.aniso_std, self.xfrac_std = float(aniso_std), float(xfrac_std)
        self.brightness_std, self.contrast_std = float(brightness_std), float(contrast_std)
        self.hue_max, self.saturation_std = float(hue_max), float(saturation_std)
        lo, hi = (float(v) for v in value_range)
        if not hi > lo:
            raise ValueError(f"value_range must be (low, high) with high > low, got {value_range!r}")
        self.value_range = (lo, hi)

    @classmethod
    def from_preset(cls, preset: str = "bgc", **kwargs) -> "AugmentPipe":
        """``b``, ``g``, ``c``, ``bg`` or ``bgc`` (the paper's default); kwargs override."""
        if preset not in PRESETS:
            raise ValueError(f"unknown ADA preset {preset!r}; valid: {', '.join(PRESETS)}")
        # the kwargs may also hold non-multiplier options (value_range, *_std, ...)
        mult: dict[str, Any] = {name: (1.0 if name in PRESETS[preset] else 0.0) for name in _BLIT + _GEOM + _COLOR}
        mult.update(kwargs)
        return cls(**mult)

    def extra_repr(self) -> str:
        on = [k for k, v in self.mult.items() if v > 0]
        return f"transforms={on}, value_range={self.value_range}"

    # -- geometry ------------------------------------------------------------------------

    def _geometry(self, n: int, h: int, w: int, p: Tensor, dev) -> tuple[Tensor, Tensor]:
        """Per-sample forward matrices ``(N, 3, 3)`` and a mask of samples that got any."""
        m = self.mult
        M = torch.eye(3, device=dev).expand(n, 3, 3)
        applied = torch.zeros(n, dtype=torch.bool, device=dev)

        def gate(name_or_prob) -> Tensor:
            prob = m[name_or_prob] * p if isinstance(name_or_prob, str) else name_or_prob
            return torch.rand(n, device=dev) < prob

        def then(F_: Tensor, on: Tensor) -> None:  # compose F_ after the current transform
            nonlocal M, applied
            M = F_ @ M
            applied = applied | on

        if m["xflip"] > 0:
            on = gate("xflip") & (torch.rand(n, device=dev) < 0.5)
            then(ops.scale2d(_where(on, torch.full((n,), -1.0, device=dev), 1.0), torch.ones(n, device=dev)), on)
        if m["rotate90"] > 0:
            k = torch.randint(0, 4, (n,), device=dev)
            if h != w:  # a quarter turn would change the shape: use half turns only
                k = torch.div(k, 2, rounding_mode="floor") * 2
            on = gate("rotate90") & (k > 0)
            then(ops.rotate90(torch.where(on, k, torch.zeros_like(k))), on)
        if m["xint"] > 0:
            t = (torch.rand(n, 2, device=dev) * 2 - 1) * self.xint_max
            t = torch.round(t * torch.tensor([w, h], device=dev, dtype=t.dtype))
            on = gate("xint")
            t = _where(on.unsqueeze(1), t, 0.0)
            then(ops.translate2d(t[:, 0], t[:, 1]), on & (t.abs().sum(1) > 0))
        if m["scale"] > 0:
            s = torch.exp2(torch.randn(n, device=dev) * self.scale_std)
            on = gate("scale")
            then(ops.scale2d(_where(on, s, 1.0), _where(on, s, 1.0)), on)
        p_rot = 1 - torch.sqrt((1 - m["rotate"] * p).clamp(0, 1))
        if m["rotate"] > 0:
            theta = (torch.rand(n, device=dev) * 2 - 1) * math.pi * self.rotate_max
            on = gate(p_rot)
            then(ops.rotate2d(_where(on, theta, 0.0)), on)
        if m["aniso"] > 0:
            s = torch.exp2(torch.randn(n, device=dev) * self.aniso_std)
            on = gate("aniso")
            s = _where(on, s, 1.0)
            then(ops.scale2d(s, 1 / s), on)
        if m["rotate"] > 0:
            theta = (torch.rand(n, device=dev) * 2 - 1) * math.pi * self.rotate_max
            on = gate(p_rot)
            then(ops.rotate2d(_where(on, theta, 0.0)), on)
        if m["xfrac"] > 0:
            t = torch.randn(n, 2, device=dev) * self.xfrac_std * torch.tensor([w, h], device=dev)
            on = gate("xfrac")
            t = _where(on.unsqueeze(1), t, 0.0)
            then(ops.translate2d(t[:, 0], t[:, 1]), on)
        return M, applied

    # -- colour --------------------------------------------------------------------------

    def _color(self, n: int, c: int, p: Tensor, dev) -> tuple[Tensor, Tensor]:
        m = self.mult
        C = torch.eye(c + 1, device=dev).expand(n, c + 1, c + 1)
        applied = torch.zeros(n, dtype=torch.bool, device=dev)

        def gate(name: str) -> Tensor:
            return torch.rand(n, device=dev) < m[name] * p

        if m["brightness"] > 0:
            on = gate("brightness")
            b = _where(on, torch.randn(n, device=dev) * self.brightness_std, 0.0)
            C, applied = ops.color_translate(b, c) @ C, applied | on
        if m["contrast"] > 0:
            on = gate("contrast")
            s = _where(on, torch.exp2(torch.randn(n, device=dev) * self.contrast_std), 1.0)
            C, applied = ops.color_scale(s, c) @ C, applied | on
        if c == 3:
            if m["lumaflip"] > 0:
                on = gate("lumaflip") & (torch.rand(n, device=dev) < 0.5)
                C, applied = ops.luma_flip(on.float()) @ C, applied | on
            if m["hue"] > 0:
                on = gate("hue")
                theta = _where(on, (torch.rand(n, device=dev) * 2 - 1) * math.pi * self.hue_max, 0.0)
                C, applied = ops.hue_rotate(theta) @ C, applied | on
            if m["saturation"] > 0:
                on = gate("saturation")
                s = _where(on, torch.exp2(torch.randn(n, device=dev) * self.saturation_std), 1.0)
                C, applied = ops.saturate(s) @ C, applied | on
        return C, applied

    # -- forward -------------------------------------------------------------------------

    def forward(self, images: Tensor, p: Tensor | float) -> Tensor:
        if images.ndim != 4:
            raise ValueError(f"expected (N, C, H, W) images, got shape {tuple(images.shape)}")
        n, c, h, w = images.shape
        dev = images.device
        p = torch.as_tensor(p, dtype=torch.float32, device=dev)
        x = images.float()
        lo, hi = self.value_range
        centred = (lo, hi) != (-1.0, 1.0)
        if centred:
            x = (x - (lo + hi) / 2) * (2.0 / (hi - lo))

        no = torch.zeros(n, dtype=torch.bool, device=dev)
        geom_on = color_on = no
        if any(self.mult[k] > 0 for k in _BLIT + _GEOM):  # Python-level: skip disabled stages
            M, geom_on = self._geometry(n, h, w, p, dev)
            x = torch.where(geom_on.reshape(n, 1, 1, 1), ops.warp_centered(x, M), x)
        if any(self.mult[k] > 0 for k in _COLOR):
            C, color_on = self._color(n, c, p, dev)
            x = ops.apply_color(x, C)

        if centred:
            x = x * ((hi - lo) / 2.0) + (lo + hi) / 2
        # Samples without any transform come back bit-exact (no resampling or range round trip).
        keep = ~(geom_on | color_on)
        return torch.where(keep.reshape(n, 1, 1, 1), images.float(), x).to(images.dtype)


class AdaptiveAugment(nn.Module):
    """ADA: an :class:`AugmentPipe` whose probability ``p`` follows the overfitting heuristic.

    ``forward(images)`` augments with the current ``p``. After each discriminator step call
    ``update(real_logits)`` with D's logits on the (augmented) real images of that step:
    ``sign(logits)`` is accumulated, and every ``interval`` calls
    ``p <- clamp(p + sign(r_t - target) * n / (speed_kimg * 1000), 0, p_max)`` with
    ``r_t = mean(sign)`` and ``n`` the number of images accumulated (``batch * interval``).
    ``target=None`` is fixed-p mode (``p`` never moves; ``r_t`` is still tracked for logs).

    Everything needed to resume is in ``state_dict()``: ``p``, the running sign sum and
    image count (buffers), the last ``r_t``, and the call counter (extra state). With
    ``torch.distributed`` initialised the accumulators are all-reduced before adjusting, so
    every rank moves ``p`` identically. No host-device sync happens in ``forward`` or
    ``update`` (read ``float(module.p)`` or :meth:`stats` when logging).
    """

    # buffers (register_buffer in __init__)
    p: Tensor
    sign_sum: Tensor
    sign_count: Tensor
    rt: Tensor

    def __init__(
        self,
        p: float = 0.0,
        target: float | None = 0.6,
        interval: int = 4,
        speed_kimg: float = 500.0,
        p_max: float = 0.85,
        preset: str = "bgc",
        value_range: Sequence[float] = (-1.0, 1.0),
        pipe: AugmentPipe | None = None,
        **pipe_kwargs,
    ):
        super().__init__()
        if not 0.0 <= p_max <= 1.0:
            raise ValueError(f"p_max must be in [0, 1], got {p_max}")
        if p_max > 0.9:
            warnings.warn(
                f"ADA p_max={p_max} > 0.9: augmentations are likely to leak into generated images",
                stacklevel=2,
            )
        if not 0.0 <= p <= p_max:
            raise ValueError(f"initial p must be in [0, p_max={p_max}], got {p}")
        if target is not None and not 0.0 < target < 1.0:
            raise ValueError(f"target must be in (0, 1) or None, got {target}")
        if interval < 1 or speed_kimg <= 0:
            raise ValueError("interval must be >= 1 and speed_kimg > 0")
        self.pipe = (pipe if pipe is not None
                     else AugmentPipe.from_preset(preset, value_range=value_range, **pipe_kwargs))
        self.target, self.interval, self.speed_kimg, self.p_max = target, int(interval), float(speed_kimg), float(p_max)
        self.register_buffer("p", torch.tensor(float(p)))
        self.register_buffer("sign_sum", torch.zeros([]))
        self.register_buffer("sign_count", torch.zeros([]))
        self.register_buffer("rt", torch.tensor(float("nan")))
        self._calls = 0
        self.register_load_state_dict_post_hook(AdaptiveAugment._clamp_after_load)

    @staticmethod
    def _clamp_after_load(module: "AdaptiveAugment", incompatible_keys) -> None:
        # A checkpoint written with a larger p_max must not push p past this run's p_max.
        with torch.no_grad():
            module.p.clamp_(0.0, module.p_max)

    @property
    def adaptive(self) -> bool:
        return self.target is not None

    def forward(self, images: Tensor) -> Tensor:
        return self.pipe(images, self.p)

    @torch.no_grad()
    def update(self, real_logits: Tensor) -> None:
        """Accumulate ``sign(D(real))``; adjust ``p`` every ``interval`` calls."""
        logits = real_logits.detach().float().reshape(-1)
        self.sign_sum += logits.sign().sum()
        self.sign_count += logits.numel()
        self._calls += 1
        if self._calls < self.interval:
            return
        stats = torch.stack([self.sign_sum, self.sign_count])
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(stats)
        total, count = stats[0], stats[1].clamp_min(1.0)
        self.rt.copy_(total / count)
        if self.adaptive:
            assert self.target is not None  # adaptive means a target
            step = torch.sign(self.rt - self.target) * count / (self.speed_kimg * 1000.0)
            self.p.copy_((self.p + step).clamp(0.0, self.p_max))
        self.sign_sum.zero_()
        self.sign_count.zero_()
        self._calls = 0

    def stats(self) -> dict[str, float]:
        """``{"ada_p": p, "ada_rt": last r_t}`` as floats (syncs; call when logging)."""
        return {"ada_p": float(self.p), "ada_rt": float(self.rt)}

    def get_extra_state(self) -> dict:
        return {"calls": self._calls}

    def set_extra_state(self, state: dict) -> None:
        self._calls = int(state.get("calls", 0))

    def extra_repr(self) -> str:
        mode = f"target={self.target}" if self.adaptive else "fixed p"
        return f"{mode}, interval={self.interval}, speed_kimg={self.speed_kimg}, p_max={self.p_max}"
