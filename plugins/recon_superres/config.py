"""Config sections of the super-resolution tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from recon.api import ModelConfig
from recon.api import FileDataConfig


@dataclass
class SRModelConfig(ModelConfig):
    """SRResNet generator and SRGAN (VGG-style) discriminator sizes (2D, or 3D for
    ``mri_superres_3d``: Conv3d layers, voxel-shuffle upsampling, Sanchez & Vilaplana 2018)."""

    #: keys this section no longer has -> where they went (the config error says so)
    moved_keys: ClassVar[dict[str, str]] = {
        "spatial_dims": "3D super-resolution is its own task: recon run --task mri_superres_3d"}

    channels: int = 64
    blocks: int = 16
    norm: Literal["batch", "none"] = "batch"
    global_residual: bool = False
    res_scale: float = 1.0
    d_arch: Literal["vgg", "patch"] = "vgg"  # SRGAN's VGG-style classifier, or the pix2pix PatchGAN
    d_channels: int = 64
    d_stages: int = 4  # vgg: conv stages; patch: stride-2 layers (3 = the 70x70 PatchGAN)
    d_norm: Literal["batch", "instance", "none"] = "batch"
    d_fc: int = 1024  # vgg only


@dataclass
class SRDataConfig(FileDataConfig):
    """Source, degradation and sampling of SR training pairs."""

    source: str = "mni152"
    scale: int = 4
    degradation: Literal["blur", "bicubic", "kspace"] = "blur"
    blur_sigma: float = 1.0  # Gaussian sigma in HR pixels (blur degradation)
    noise_std: float = 0.0  # Gaussian noise added to the LR input
    axis: int = 2  # slice axis of volumes (2 = axial for RAS volumes)
    min_foreground: float = 0.1  # skip slices with less foreground than this
    patch_size: int = 96  # HR training patch side
    eval_crop: int = 0  # centre-crop evaluation images to this HR size (0 = whole image)
    augment: bool = True  # random flips / 90-degree rotations of training patches


@dataclass
class SRGANDataConfig(SRDataConfig):
    """SRGAN's defaults: the built-in photographs, bicubic degradation, no empty-slice filter."""

    source: str = "natural"
    degradation: Literal["blur", "bicubic", "kspace"] = "bicubic"
    min_foreground: float = 0.0
