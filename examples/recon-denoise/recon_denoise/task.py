"""The ``denoise`` task, declared on recon's public API: an operator, networks (``setup``), presets."""

from dataclasses import dataclass

from torch import Tensor, nn

from recon.api import FileDataConfig, GaussianNoise, ModelConfig, PatchGANDiscriminator, Parts, RunConfig, Task


@dataclass
class DenoiseData(FileDataConfig):
    source: str = "mni152"
    noise_std: float = 0.05
    patch_size: int = 48


@dataclass
class DenoiseModel(ModelConfig):
    channels: int = 32
    layers: int = 5


class DnCNN(nn.Module):
    """A small DnCNN (Zhang et al. 2017) that predicts the noise: ``(N, 1, H, W) -> (N, 1, H, W)``."""

    def __init__(self, channels: int, layers: int) -> None:
        super().__init__()
        body: list[nn.Module] = [nn.Conv2d(1, channels, 3, padding=1), nn.ReLU()]
        for _ in range(layers - 2):
            body += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
        self.body = nn.Sequential(*body, nn.Conv2d(channels, 1, 3, padding=1))

    def forward(self, x: Tensor) -> Tensor:
        return x - self.body(x)


class DenoiseTask(Task):
    name = "denoise"
    description = "example plugin: MRI slice denoising"

    def config_sections(self) -> dict[str, type]:
        return {"data": DenoiseData, "model": DenoiseModel}

    def presets(self) -> dict[str, dict]:
        smoke = {"trainer": {"max_steps": 3, "batch_size": 4, "checkpoint_every": 3, "eval_every": 0,
                             "sample_every": 3, "log_every": 1}, "model": {"channels": 8, "layers": 3},
                 "data": {"patch_size": 32}, "eval": {"max_images": 2, "lpips": False, "patch_kid": False}}
        return {"smoke": smoke, "default": {"trainer": {"max_steps": 1500, "batch_size": 16}},
                "paper": {"model": {"channels": 64, "layers": 17}}}

    def operator(self, cfg: RunConfig) -> GaussianNoise:
        return GaussianNoise(cfg.data.noise_std)

    def setup(self, cfg: RunConfig, train_data: object) -> Parts:
        return Parts(generator=DnCNN(cfg.model.channels, cfg.model.layers),
                     discriminator=PatchGANDiscriminator(in_channels=1, base_channels=16, num_layers=2))
