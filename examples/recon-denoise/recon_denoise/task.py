"""The ``denoise`` task: built only from recon's public building blocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from recon.config import DataConfig, ModelConfig
from recon.data.images2d import ImageSpec, load_split_images
from recon.data.patches import RandomPatchDataset, sample_generator
from recon.nets import PatchGANDiscriminator
from recon.task import Task


@dataclass
class DenoiseData(DataConfig):
    source: str = "mni152"
    noise_std: float = 0.05
    patch_size: int = 48
    min_foreground: float = 0.1


@dataclass
class DenoiseModel(ModelConfig):
    channels: int = 32
    layers: int = 5


class DnCNN(nn.Module):
    """A small DnCNN (Zhang et al. 2017): predicts the noise. ``(N,1,H,W) -> (N,1,H,W)``."""

    def __init__(self, channels: int, layers: int) -> None:
        super().__init__()
        body: list[nn.Module] = [nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(layers - 2):
            body += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True)]
        body.append(nn.Conv2d(channels, 1, 3, padding=1))
        self.body = nn.Sequential(*body)

    def forward(self, x: Tensor) -> Tensor:
        return x - self.body(x)


class _Eval(Dataset):
    def __init__(self, images: Any, pair: Any) -> None:
        self.images, self.pair = images, pair

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        vid, array = self.images[i]
        item = self.pair(torch.from_numpy(array), sample_generator(0, i))
        item["volume"] = torch.tensor(vid)
        return item


class DenoiseTask(Task):
    name = "denoise"
    description = "example plugin: MRI slice denoising"
    metric_convention = "fastmri"
    baseline_name = "gaussian filter"

    def config_sections(self) -> dict[str, type]:
        return {"data": DenoiseData, "model": DenoiseModel}

    def presets(self) -> dict[str, dict[str, Any]]:
        smoke = {"trainer": {"max_steps": 3, "batch_size": 4, "checkpoint_every": 3, "eval_every": 0,
                             "sample_every": 3, "log_every": 1},
                 "model": {"channels": 8, "layers": 3}, "data": {"patch_size": 32},
                 "eval": {"max_images": 2, "lpips": False}}
        return {"smoke": smoke, "default": {"trainer": {"max_steps": 1500, "batch_size": 16}},
                "paper": {"model": {"channels": 64, "layers": 17}}}

    def _pair(self, cfg: Any) -> Any:
        std = cfg.data.noise_std

        def pair(clean: Tensor, rng: torch.Generator) -> dict[str, Tensor]:
            return {"input": clean + std * torch.randn(clean.shape, generator=rng), "target": clean}
        return pair

    def build_dataset(self, cfg: Any, split: str) -> Dataset:
        d = cfg.data
        spec = ImageSpec(source=d.source, min_foreground=d.min_foreground, seed=cfg.seed, holdout=d.holdout)
        images = load_split_images(spec, split)
        if split != "train":
            return _Eval(images, self._pair(cfg))
        return RandomPatchDataset([torch.from_numpy(a) for _, a in images], d.patch_size, cfg.seed, self._pair(cfg))

    def build_generator(self, cfg: Any) -> nn.Module:
        return DnCNN(cfg.model.channels, cfg.model.layers)

    def build_discriminator(self, cfg: Any) -> nn.Module:
        return PatchGANDiscriminator(in_channels=1, base_channels=16, num_layers=2)

    def baselines(self, cfg: Any) -> dict[str, Any]:
        from torchvision.transforms.functional import gaussian_blur

        return {"gaussian filter": lambda batch: gaussian_blur(batch["input"], [5, 5], [1.0, 1.0])}
