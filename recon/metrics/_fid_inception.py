"""The FID variant of InceptionV3 that ``pt_inception-2015-12-05-6726825d.pth`` expects.

That file is the TensorFlow ``inception-2015-12-05`` graph (the original FID network)
converted to torchvision's ``Inception3`` layout, 1008 classes, no auxiliary head. The TF
graph differs from torchvision's blocks in its pooling branches, so those are rebuilt
here on top of torchvision's classes (same parameter names, so the state dict loads
strictly):

- Mixed_5b..5d (A), Mixed_6b..6e (C) and Mixed_7b (E): 3x3 average pooling that does not
  count the zero padding (``count_include_pad=False``);
- Mixed_7c (E): 3x3 *max* pooling in the pool branch.

Inputs are RGB in [-1, 1] at 299x299; :func:`build_fid_inception` returns the network and
:func:`pool3_and_logits` runs it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.inception import Inception3, InceptionA, InceptionC, InceptionE

N_CLASSES = 1008


def _avg_pool_exclusive(x: Tensor) -> Tensor:
    """3x3 stride-1 average pool whose border windows average only real pixels."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _max_pool(x: Tensor) -> Tensor:
    """3x3 stride-1 max pool, same size output."""
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class _FIDInceptionA(InceptionA):
    """InceptionA with the TF pooling branch (padding excluded from the average)."""

    def _forward(self, x: Tensor) -> list[Tensor]:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool_exclusive(x))]


class _FIDInceptionC(InceptionC):
    """InceptionC with the TF pooling branch (padding excluded from the average)."""

    def _forward(self, x: Tensor) -> list[Tensor]:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7d = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                      self.branch7x7dbl_5):
            b7d = layer(b7d)
        return [self.branch1x1(x), b7, b7d, self.branch_pool(_avg_pool_exclusive(x))]


class _FIDInceptionE(InceptionE):
    """InceptionE whose pool branch uses ``pool`` (exclusive average or max)."""

    def __init__(self, in_channels: int, pool: str) -> None:
        super().__init__(in_channels)
        self.pool_kind = pool

    def _forward(self, x: Tensor) -> list[Tensor]:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        b3d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        b3d = torch.cat([self.branch3x3dbl_3a(b3d), self.branch3x3dbl_3b(b3d)], 1)
        pooled = _max_pool(x) if self.pool_kind == "max" else _avg_pool_exclusive(x)
        return [self.branch1x1(x), b3, b3d, self.branch_pool(pooled)]


def build_fid_inception() -> Inception3:
    """Uninitialised FID InceptionV3 (1008 logits, no aux head); load the state dict next."""
    net = Inception3(num_classes=N_CLASSES, aux_logits=False, transform_input=False,
                     init_weights=False)
    net.Mixed_5b = _FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = _FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = _FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = _FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = _FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = _FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = _FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = _FIDInceptionE(1280, pool="avg")
    net.Mixed_7c = _FIDInceptionE(2048, pool="max")
    return net.eval()


_TRUNK = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
          "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a",
          "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c")


def pool3_and_logits(net: Inception3, x: Tensor) -> tuple[Tensor, Tensor]:
    """``(N, 3, 299, 299)`` in [-1, 1] -> pool3 ``(N, 2048)`` and logits ``(N, 1008)``."""
    for name in _TRUNK:
        x = getattr(net, name)(x)
    pool3 = torch.flatten(net.avgpool(x), 1)
    return pool3, net.fc(pool3)


def load_fid_inception(path: str, device: torch.device | str = "cpu") -> nn.Module:
    """Build the network and load ``pt_inception-2015-12-05-*.pth`` strictly."""
    net = build_fid_inception()
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    return net.to(device).eval().requires_grad_(False)
