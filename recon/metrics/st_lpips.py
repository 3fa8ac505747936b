"""Shift-tolerant LPIPS (Ghildyal & Liu, ECCV 2022): an offline full-reference perceptual metric.

The ``stlpips-pytorch`` wheel ships complete weights for the shift-tolerant AlexNet and
VGG16 variants (backbone *and* linear heads) in ``stlpips_pytorch/weights/vST0.0/``. The
package's own modules import IPython and torchsummary and print on construction, so recon
never imports it: the weight files are located with :func:`importlib.util.find_spec` and
loaded with ``torch.load(weights_only=True)`` into the networks defined here.

The shift-tolerant trunks differ from the ImageNet ones in three ways (paper, Sec. 4): the
first convolution has stride 1, every stride-2 step is an anti-aliasing blur pool (a
binomial [1, 2, 1] x [1, 2, 1] / 16 depthwise filter, reflection padding of 2 pixels on
every side, stride 2) placed after the max pool (run at stride 1), and the padding is
larger. The distance is LPIPS v0.1's: inputs in [-1, 1] shifted and scaled per channel,
features unit-normalised over channels, squared differences weighted by the linear heads
(1x1 convolutions), averaged over space and summed over the five layers.

A test (``tests/test_metrics_st_lpips.py``) compares these values with the package's own
``stlpips.LPIPS(net, variant="shift_tolerant")`` on the same pairs.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recon.errors import UsageError, WeightsUnavailableError

PACKAGE = "stlpips_pytorch"
WEIGHTS_DIR = "weights/vST0.0"
WEIGHT_FILES: dict[str, str] = {"alex": "alex_shift_tolerant.pth", "vgg": "vgg_shift_tolerant.pth"}
NETS: tuple[str, ...] = tuple(WEIGHT_FILES)
EPS = 1e-10

# A trunk is a flat list of layers; the state-dict keys of the wheel name each layer by the
# slice it belongs to and its index in that list (``net.slice2.5.weight``).
#   ("conv", in, out, kernel, padding)  ("relu",)  ("maxpool", kernel)  ("blur", channels)
_ALEX = [
    ("conv", 3, 64, 11, 2), ("blur", 64), ("relu",),
    ("maxpool", 3), ("blur", 64), ("conv", 64, 192, 5, 2), ("relu",),
    ("maxpool", 3), ("blur", 192), ("conv", 192, 384, 3, 1), ("relu",),
    ("conv", 384, 256, 3, 1), ("relu",),
    ("conv", 256, 256, 3, 1), ("relu",),
]
_ALEX_SLICES = (0, 3, 7, 11, 13, 15)


def _vgg16_layers() -> list[tuple]:
    layers: list[tuple] = []
    channels = 3
    for i, stage in enumerate([[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]):
        if i:
            layers += [("maxpool", 2), ("blur", channels)]
        for width in stage:
            layers += [("conv", channels, width, 3, 1), ("relu",)]
            channels = width
    return layers


_VGG = _vgg16_layers()
_VGG_SLICES = (0, 4, 10, 18, 26, 34)
_TRUNKS = {"alex": (_ALEX, _ALEX_SLICES, (64, 192, 384, 256, 256)),
           "vgg": (_VGG, _VGG_SLICES, (64, 128, 256, 512, 512))}


class BlurPool2d(nn.Module):
    """Anti-aliased stride-2 downsampling (Zhang, ICML 2019) with a 3x3 binomial filter.

    ``(N, C, H, W) -> (N, C, floor((H + 1) / 2) + 1, ...)``: reflection padding of 2 on every
    side, then a depthwise convolution with ``[1, 2, 1]^T [1, 2, 1] / 16`` at stride 2.
    """

    filt: Tensor  # buffer

    def __init__(self, channels: int) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = taps[:, None] * taps[None, :]
        self.register_buffer("filt", (kernel / kernel.sum()).expand(channels, 1, 3, 3).clone())

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), self.filt, stride=2, groups=x.shape[1])


def _layer(spec: tuple) -> nn.Module:
    kind = spec[0]
    if kind == "conv":
        _, cin, cout, kernel, padding = spec
        return nn.Conv2d(cin, cout, kernel, stride=1, padding=padding)
    if kind == "relu":
        return nn.ReLU(inplace=True)
    if kind == "maxpool":
        return nn.MaxPool2d(kernel_size=spec[1], stride=1)
    return BlurPool2d(spec[1])


class ShiftTolerantTrunk(nn.Module):
    """The five feature stages of a shift-tolerant AlexNet or VGG16.

    ``forward((N, 3, H, W)) -> [5 tensors (N, C_k, H_k, W_k)]`` (the ReLU outputs LPIPS compares).
    """

    def __init__(self, net: str) -> None:
        super().__init__()
        layers, bounds, self.channels = _TRUNKS[net]
        for k in range(5):
            stage = nn.Sequential()
            for index in range(bounds[k], bounds[k + 1]):
                stage.add_module(str(index), _layer(layers[index]))
            self.add_module(f"slice{k + 1}", stage)

    def forward(self, x: Tensor) -> list[Tensor]:
        features = []
        for k in range(5):
            x = getattr(self, f"slice{k + 1}")(x)
            features.append(x)
        return features


def st_lpips_weights_path(net: str = "alex") -> Path | None:
    """``<site-packages>/stlpips_pytorch/weights/vST0.0/<net>_shift_tolerant.pth``, or None.

    The package is located without being imported (its modules import IPython)."""
    if net not in WEIGHT_FILES:
        return None
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(location) / WEIGHTS_DIR / WEIGHT_FILES[net]
        if path.is_file():
            return path
    return None


def st_lpips_status(net: str = "alex") -> tuple[bool, str]:
    """``(True, "<weights path>")`` when ST-LPIPS(``net``) can run, else ``(False, reason)``."""
    if net not in WEIGHT_FILES:
        return False, f"unknown ST-LPIPS net {net!r}; valid: {', '.join(NETS)}"
    path = st_lpips_weights_path(net)
    if path is None:
        return False, (f"the stlpips-pytorch package (with {WEIGHTS_DIR}/{WEIGHT_FILES[net]}) is not "
                       f"installed: pip install stlpips-pytorch")
    return True, str(path)


def _load_state(net: str, path: Path) -> dict[str, Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - an unreadable weights file is bad input
        raise UsageError(f"cannot read ST-LPIPS weights {path}: {exc}") from None
    if not isinstance(state, dict):
        raise UsageError(f"{path} is not an ST-LPIPS state dict")
    # the wheel's heads are ``Sequential(Dropout, Conv2d)``: ``lin0.model.1.weight`` -> ``lin0.weight``
    return {key.replace(".model.1.", "."): value for key, value in state.items()}


class STLPIPS(nn.Module):
    """Shift-tolerant LPIPS distance, differentiable in its inputs (a metric and a loss).

    Args:
        net: ``"alex"`` (the reported metric, ``st_lpips``) or ``"vgg"``.
        weights_path: the ``.pth`` file; default the one inside the stlpips-pytorch wheel.
        device: where the network lives; inputs are moved there.

    Attributes:
        label: ``"st-lpips-vST0.0-alex"`` or ``"st-lpips-vST0.0-vgg"``.
        weights_path: the file the weights came from.
    """

    # buffers: the scaling layer's per-channel shift and scale
    shift: Tensor
    scale: Tensor

    def __init__(self, net: str = "alex", *, weights_path: str | Path | None = None,
                 device: str | torch.device = "cpu") -> None:
        super().__init__()
        if net not in WEIGHT_FILES:
            raise UsageError(f"unknown ST-LPIPS net {net!r}; valid: {', '.join(NETS)}")
        path = Path(weights_path) if weights_path is not None else st_lpips_weights_path(net)
        if path is None or not path.is_file():
            raise WeightsUnavailableError(st_lpips_status(net)[1] if path is None else
                                          f"ST-LPIPS weights not found: {path}")
        self.net_name = net
        self.net = ShiftTolerantTrunk(net)
        self.register_buffer("shift", torch.zeros(1, 3, 1, 1))
        self.register_buffer("scale", torch.ones(1, 3, 1, 1))
        for k, channels in enumerate(self.net.channels):
            self.add_module(f"lin{k}", nn.Conv2d(channels, 1, 1, bias=False))
        state: dict[str, Any] = _load_state(net, path)  # a missing key becomes None: load_state_dict rejects it
        state["shift"] = state.pop("scaling_layer.shift", None)
        state["scale"] = state.pop("scaling_layer.scale", None)
        try:
            self.load_state_dict(state, strict=True)
        except (RuntimeError, TypeError) as exc:
            raise UsageError(f"{path} does not hold ST-LPIPS {net} weights: "
                             f"{str(exc).splitlines()[0][:200]}") from None
        self.requires_grad_(False).eval()
        self.label = f"st-lpips-vST0.0-{net}"
        self.weights_path = str(path)
        self.to(device)

    def train(self, mode: bool = True) -> STLPIPS:
        """Always in eval mode (it is a fixed metric, even inside a model being trained)."""
        return super().train(False)

    def forward(self, gt: Tensor, pred: Tensor) -> Tensor:
        """Per-image distances.

        Args:
            gt, pred: ``(N, C, H, W)`` with C in {1, 3}, values in [0, 1]; 1-channel images
                are repeated to 3 and both are mapped to [-1, 1]. At least 32x32 pixels.

        Returns:
            ``(N,)`` float32 distances (0 for identical images), differentiable in both inputs.
        """
        a, b = _prepare(gt, "gt", self.shift), _prepare(pred, "pred", self.shift)
        if a.shape != b.shape:
            raise UsageError(f"gt and pred shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
        n = a.shape[0]
        # one trunk pass over both images (half the kernel launches of two passes)
        features = self.net(((torch.cat([a, b]) * 2.0 - 1.0) - self.shift) / self.scale)
        total = torch.zeros(n, device=a.device, dtype=torch.float32)
        for k, feat in enumerate(features):
            feat = feat.float()
            unit = feat / (feat.pow(2).sum(dim=1, keepdim=True).sqrt() + EPS)
            diff = (unit[:n] - unit[n:]).pow(2)
            total = total + getattr(self, f"lin{k}")(diff).mean(dim=(1, 2, 3))
        return total


def _prepare(x: Any, name: str, like: Tensor) -> Tensor:
    """``(N, 3, H, W)`` float32 on ``like``'s device; gray repeated; NaN/Inf and tiny inputs refused."""
    x = torch.as_tensor(x)
    if x.ndim != 4 or x.shape[1] not in (1, 3) or x.numel() == 0:
        raise UsageError(f"ST-LPIPS expects (N, C, H, W) with C in {{1, 3}}, got {name} of shape "
                         f"{tuple(x.shape)}")
    if min(x.shape[-2:]) < 32:
        raise UsageError(f"ST-LPIPS needs images of at least 32x32 pixels, got {name} of "
                         f"{x.shape[-2]}x{x.shape[-1]}")
    if not torch.isfinite(x.detach()).all():
        raise UsageError(f"{name} contains NaN/Inf values")
    x = x.to(device=like.device, dtype=torch.float32)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


@lru_cache(maxsize=4)
def cached_st_lpips(net: str = "alex", device: str = "cpu") -> STLPIPS:
    """One shared :class:`STLPIPS` per (net, device) (evaluation builds it once per process)."""
    return STLPIPS(net, device=device)


def st_lpips(gt: Any, pred: Any, net: str = "alex", *, device: str = "cpu") -> float:
    """Mean ST-LPIPS over a batch ``(N, C, H, W)`` in [0, 1]."""
    with torch.no_grad():
        return float(cached_st_lpips(net, str(device))(gt, pred).mean())
