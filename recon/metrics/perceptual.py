"""LPIPS v0.1 through the ``lpips`` package, with an offline-safe backbone loader.

The package ships only the linear heads (``lpips/weights/v0.1/<net>.pth``); the ImageNet
backbone is torchvision's AlexNet / VGG16, which ``lpips`` would download through
torchvision. Here the network is always built with ``pnet_rand=True`` (nothing is
fetched) and the backbone state dict is then loaded from the torch hub cache or a path the
user gives. A missing file is a :class:`~recon.errors.WeightsUnavailableError` naming the
file and the directory; a random backbone is used only when asked for, and labelled so.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from recon.errors import UsageError, WeightsUnavailableError
from recon.metrics.weights import hub_checkpoint_dir

#: torchvision's file names (the basename of ``<Net>_Weights.IMAGENET1K_V1.url``).
BACKBONE_FILES: dict[str, str] = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}
RANDOM_LABEL = "lpips-random-backbone (NOT comparable)"


def _check_net(net: str) -> str:
    if net not in BACKBONE_FILES:
        raise UsageError(f"unknown LPIPS net {net!r}; valid: {', '.join(BACKBONE_FILES)}")
    return net


def _linear_heads_path(net: str) -> Path | None:
    """``lpips/weights/v0.1/<net>.pth`` inside the installed package, or None."""
    try:
        import lpips as lpips_pkg
    except ImportError:
        return None
    path = Path(lpips_pkg.__file__).parent / "weights" / "v0.1" / f"{net}.pth"
    return path if path.is_file() else None


def _backbone_path(net: str, backbone_path: str | Path | None) -> Path:
    if backbone_path is not None:
        return Path(backbone_path)
    return hub_checkpoint_dir() / BACKBONE_FILES[net]


def _missing_backbone_message(net: str, path: Path) -> str:
    return (
        f"LPIPS {net} backbone not found: no file {path.name} in {path.parent}. Put "
        f"torchvision's ImageNet weights {BACKBONE_FILES[net]} in {hub_checkpoint_dir()} "
        f"(TORCH_HOME selects another cache) or pass backbone_path; a random backbone is "
        f"used only with allow_random=True"
    )


def lpips_status(net: str = "alex", backbone_path: str | Path | None = None) -> tuple[bool, str]:
    """Whether LPIPS(``net``) can run with pretrained weights here.

    Returns:
        ``(True, "<backbone path>")`` or ``(False, "<reason>")``; never raises.
    """
    if net not in BACKBONE_FILES:
        return False, f"unknown LPIPS net {net!r}"
    if _linear_heads_path(net) is None:
        return False, f"the lpips package (with weights/v0.1/{net}.pth) is not installed"
    path = _backbone_path(net, backbone_path)
    if not path.is_file():
        return False, _missing_backbone_message(net, path)
    return True, str(path)


def _load_backbone(trunk: nn.Module, path: Path) -> None:
    """Copy torchvision ``features.<i>.*`` tensors into lpips' ``slice<k>.<i>.*`` modules.

    lpips keeps torchvision's layer indices as module names inside its slices, so the
    mapping is by name and the load is strict.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise UsageError(f"cannot read LPIPS backbone {path}: {exc}") from None
    features = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    wanted = trunk.state_dict().keys()
    try:
        mapped = {key: features[key.split(".", 1)[1]] for key in wanted}
        trunk.load_state_dict(mapped, strict=True)
    except (KeyError, RuntimeError) as exc:
        raise UsageError(
            f"{path} is not a torchvision backbone for this LPIPS net: {exc}") from None


class LPIPS(nn.Module):
    """LPIPS v0.1 distance, differentiable in its inputs (usable as a perceptual loss).

    Args:
        net: ``"alex"`` (the reported metric) or ``"vgg"``.
        backbone_path: torchvision state dict of the backbone; default
            ``$TORCH_HOME/hub/checkpoints/<torchvision file name>``.
        allow_random: build with a random backbone (``pnet_rand=True``), for plumbing tests
            only; :attr:`label` then says the numbers are not comparable.
        device: where the network lives; inputs are moved there.

    Attributes:
        label: ``"lpips-v0.1-alex"`` / ``"lpips-v0.1-vgg"`` or :data:`RANDOM_LABEL`.
    """

    def __init__(self, net: str = "alex", *, backbone_path: str | Path | None = None,
                 allow_random: bool = False, device: str | torch.device = "cpu") -> None:
        super().__init__()
        net = _check_net(net)
        path = _backbone_path(net, backbone_path)
        if not allow_random and not path.is_file():
            raise WeightsUnavailableError(_missing_backbone_message(net, path))
        if _linear_heads_path(net) is None:
            raise WeightsUnavailableError(
                f"the lpips package with its v0.1 {net} linear heads is not installed "
                f"(pip install lpips)"
            )
        import lpips as lpips_pkg

        with warnings.catch_warnings():  # lpips calls torchvision's deprecated pretrained=
            warnings.simplefilter("ignore", UserWarning)
            model = lpips_pkg.LPIPS(net=net, version="0.1", pretrained=True, pnet_rand=True,
                                    verbose=False)
        if not allow_random:
            _load_backbone(model.net, path)
        self.model = model.eval().requires_grad_(False)
        self.net_name = net
        self.label = RANDOM_LABEL if allow_random else f"lpips-v0.1-{net}"
        self.backbone_path = None if allow_random else str(path)
        self.to(device)

    def train(self, mode: bool = True) -> LPIPS:
        """Keep the network in eval mode (lpips' heads have dropout) even inside a model
        that is switched to training."""
        super().train(mode)
        self.model.eval()
        return self

    def forward(self, gt: Tensor, pred: Tensor) -> Tensor:
        """Per-image distances.

        Args:
            gt, pred: ``(N, C, H, W)`` with C in {1, 3}, values in [0, 1] (1-channel inputs
                are repeated to 3; both are scaled to [-1, 1] as LPIPS expects).

        Returns:
            ``(N,)`` distances (0 for identical images), on the module's device.
        """
        device = next(self.model.parameters()).device
        a = _prepare_input(gt, "gt", device)
        b = _prepare_input(pred, "pred", device)
        if a.shape != b.shape:
            raise UsageError(f"gt and pred shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
        return self.model(a * 2.0 - 1.0, b * 2.0 - 1.0).reshape(a.shape[0])


def _prepare_input(x: Any, name: str, device: torch.device) -> Tensor:
    """Tensor ``(N, 3, H, W)`` float on ``device``; gray repeated; NaN/Inf rejected."""
    x = torch.as_tensor(x)
    if x.ndim != 4 or x.shape[1] not in (1, 3) or x.numel() == 0:
        raise UsageError(f"LPIPS expects (N, C, H, W) with C in {{1, 3}}, got {name} of shape "
                         f"{tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise UsageError(f"{name} contains NaN/Inf values")
    x = x.to(device=device, dtype=torch.float32)
    return x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x


@lru_cache(maxsize=4)
def _cached_model(net: str, backbone_path: str | None, allow_random: bool, device: str) -> LPIPS:
    return LPIPS(net, backbone_path=backbone_path, allow_random=allow_random, device=device)


def lpips(gt: Any, pred: Any, net: str = "alex", *, backbone_path: str | Path | None = None,
          allow_random: bool = False, device: str = "cpu") -> float:
    """Mean LPIPS over a batch ``(N, C, H, W)`` in [0, 1] (the model is built once and kept)."""
    model = _cached_model(net, None if backbone_path is None else str(backbone_path),
                          allow_random, str(device))
    with torch.no_grad():
        return float(model(gt, pred).mean())
