"""The ``mri_kspace`` task: undersampled k-space MR reconstruction with adversarial training.

Data (:mod:`recon_kspace.data`, :mod:`recon_kspace.fastmri_data`): the built-in MNI152 T1
slices or the user's images with simulated k-space (smooth random phase, optional simulated
coils), or the user's fastMRI HDF5 k-space used as is; masks follow fastMRI's conventions.
Generator: a cascade of U-Nets with hard or learned soft data consistency (DAGAN/RefineGAN
style) or MONAI's E2E-VarNet, fed the zero-filled image, the measured k-space, the mask and
the coil maps; it outputs a complex image whose magnitude is compared with the target.
Discriminator: SRGAN's VGG-style classifier (default) or a PatchGAN (``model.d_arch``) on magnitude
images. Losses: image L1 (``loss.l1``), k-space L1
(``loss.kspace``), adversarial (``loss.adversarial``), optional LPIPS (``loss.perceptual``).
Baseline: the zero-filled reconstruction; metrics in the fastMRI convention plus HFEN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from recon.api import RunConfig
from recon.api import Parts, Task
from recon_kspace.config import KspaceDataConfig, KspaceLossConfig, KspaceModelConfig, MaskConfig, check_config
from recon_kspace.data import Simulation


def kspace_l1(output: Tensor, batch: dict[str, Tensor]) -> Tensor:
    """Mean ``|F S x - k_full|`` over samples, coils and k-space locations (``F S``: the unmasked
    forward operator, :meth:`recon.physics.MaskedFourier.to_kspace`).

    ``output``: the generator's complex image ``(N, 2, H, W)``; ``batch["kspace_full"]``: the
    fully sampled coil k-space ``(N, C, H, W)``; ``batch["maps"]`` (multi-coil) ``(N, C, H, W)``.
    The FFT is orthonormal, so the term has the image's scale.
    """
    from recon.api import MaskedFourier, to_complex

    if "kspace_full" not in batch:
        raise KeyError("loss.kspace needs the fully sampled k-space (batch key 'kspace_full')")
    x = to_complex(output.float(), dim=1)
    return (MaskedFourier.to_kspace(x, batch.get("maps")) - batch["kspace_full"]).abs().mean()


class KspaceReconstructionTask(Task):
    name = "mri_kspace"
    description = ("undersampled k-space MRI reconstruction: cascade of U-Nets with data consistency "
                   "+ VGG-style D, vs zero-filled")
    metric_convention = "fastmri"

    def config_sections(self) -> dict[str, type]:
        return {"mask": MaskConfig, "model": KspaceModelConfig, "data": KspaceDataConfig,
                "loss": KspaceLossConfig}

    def presets(self) -> dict[str, dict[str, Any]]:
        from recon_kspace.presets import presets

        return presets()

    def validate(self, cfg: RunConfig) -> None:
        check_config(cfg)

    # -- data -----------------------------------------------------------------------------
    def operator(self, cfg: RunConfig) -> Any:
        """The forward operator, :class:`recon.physics.MaskedFourier`: this run's masks (the ``mask``
        section) and ``data.coils`` simulated coil maps (fastMRI multi-coil files bring their own
        coil sensitivities; their maps are estimated from the calibration region)."""
        return Simulation.from_config(cfg).operator()

    def build_dataset(self, cfg: RunConfig, split: str) -> Dataset:
        from recon_kspace.fastmri_data import FastMRIEvalDataset, FastMRITrainDataset, fastmri_files, split_volumes

        sim = Simulation.from_config(cfg)
        if fastmri_files(cfg.data.source):
            d = cfg.data
            if d.augment_affine or d.augment_elastic or d.augment_intensity:
                from recon.api import ConfigError

                raise ConfigError("data.augment_affine/elastic/intensity: measured fastMRI k-space is used as "
                                  "acquired; image-space augmentation applies to simulated k-space only")
            volumes = split_volumes(cfg, split)
            sim.mask(volumes[0].kspace_shape[-2:], 0)  # a mask that cannot be made fails here, clearly
            if split == "train":
                return FastMRITrainDataset(volumes, sim, cfg.seed, cfg.trainer.batch_size // cfg.trainer.grad_accum)
            return FastMRIEvalDataset(volumes, sim)
        from recon.api import MeasurementSlices, RandomPatchDataset, image_spec, load_split_images
        from recon_kspace.data import simulated_sample

        images = load_split_images(image_spec(cfg, channels=1), split)
        sim.mask(images[0][1].shape[-2:], 0)
        if split != "train":  # whole slices, mask and phase drawn from (0, index)
            return MeasurementSlices(images, simulated_sample(sim))
        from recon.api import augment_spec, build_augmentation

        d = cfg.data
        tensors = [torch.from_numpy(a) for _, a in images]
        augment = build_augmentation(augment_spec(cfg))
        # rows x columns crops (0: whole), up-down / left-right flips only (the phase-encode
        # direction stays along W), image augmentation clamped to [0, 1], then the simulation
        return RandomPatchDataset(tensors, (d.patch_size, d.patch_width), cfg.seed,
                                  simulated_sample(sim, full=True), augment="flips" if d.augment else False,
                                  augment_fn=None if augment is None else lambda im, rng: augment(im, rng).clamp(0, 1))

    # -- what is trained -----------------------------------------------------------------
    def setup(self, cfg: RunConfig, train_data: Dataset | None) -> Parts:
        """The cascade (or VarNet) against D (VGG-style or PatchGAN) on magnitudes; image terms plus ``loss.kspace``
        x k-space L1; the zero-filled reconstruction as baseline; HFEN beside core's metrics."""
        return Parts(generator=generator(cfg), discriminator=discriminator(cfg), generate=generate,
                     stochastic_generate=False, content_loss=content_terms(cfg),
                     baselines={self.operator(cfg).baseline_name: zero_filled},
                     metrics=("hfen",))  # registered by this plugin (recon_kspace.evaluate.hfen)

    def predict_file(self, cfg: RunConfig, parts: Parts, input_path: Path, output_path: Path,
                     device: torch.device) -> Path:
        from recon_kspace.predict import predict_file

        return predict_file(parts, cfg, input_path, output_path, device)


def generator(cfg: RunConfig) -> nn.Module:
    """``model.generator``: the cascade of U-Nets with data consistency, or MONAI's E2E-VarNet."""
    from recon_kspace.networks import CascadeNet, MonaiVarNet

    m = cfg.model
    if m.generator == "varnet":
        net = MonaiVarNet(m.cascades, tuple(m.varnet_features), tuple(m.sens_features))
        from recon_kspace.fastmri_data import fastmri_files

        if cfg.data.coils == 1 and not fastmri_files(cfg.data.source):
            # simulated single-coil data: unit coil maps, the sensitivity network is unused
            # (frozen so that DistributedDataParallel does not wait for its gradients)
            net.model.coil_sensitivity_model.requires_grad_(False)
        return net
    return CascadeNet(m.cascades, m.chans, m.depth, m.convs, m.dc, m.init_lambda, m.share_weights)


def discriminator(cfg: RunConfig) -> nn.Module:
    """A PatchGAN (``model.d_arch=patch``) or SRGAN's VGG-style classifier (``vgg``) on magnitude images."""
    from recon.api import PatchGANDiscriminator, VGGStyleDiscriminator

    m = cfg.model
    if m.d_arch == "vgg":
        return VGGStyleDiscriminator(1, m.d_channels, m.d_layers, m.d_norm, m.d_fc)
    return PatchGANDiscriminator(1, m.d_channels, m.d_layers, m.d_norm)


def generate(generator: nn.Module, batch: dict[str, Tensor],
             rng: torch.Generator | None = None) -> tuple[Tensor, dict[str, Tensor]]:
    """The magnitude ``(N, 1, h, w)`` of ``G(zero_filled, kspace, mask, maps)``, centre-cropped to
    the target's size (fastMRI's 320x320 evaluation crop; a no-op for simulated data), and
    ``{"generator_output": (N, 2, H, W)}``, the complex image the k-space loss reads."""
    from recon_kspace.fastmri_data import center_crop
    from recon_kspace.networks import magnitude

    out = generator(batch["zero_filled"], batch["kspace"], batch["mask"], batch.get("maps"))
    mag = magnitude(out)
    if "target" in batch and mag.shape[-2:] != batch["target"].shape[-2:]:
        mag = center_crop(mag, (batch["target"].shape[-2], batch["target"].shape[-1]))
    return mag, {"generator_output": out}


def content_terms(cfg: RunConfig) -> Callable[..., dict[str, Tensor]]:
    """Image L1/L2/perceptual on magnitudes (core's terms) plus ``loss.kspace`` x k-space L1."""
    from recon.api import default_content_loss

    image_terms = default_content_loss(cfg)

    def terms(batch: dict[str, Tensor], fake: Tensor, perceptual_fn: Callable | None = None) -> dict[str, Tensor]:
        loss = cfg.loss
        out = image_terms(batch, fake, perceptual_fn)
        if loss.kspace > 0:
            if "generator_output" not in batch:
                raise KeyError("loss.kspace needs the generator's complex output (batch key 'generator_output', "
                               "handed over from generate())")
            out["kspace"] = loss.kspace * kspace_l1(batch["generator_output"], batch)
        return out
    return terms


def zero_filled(batch: dict[str, Tensor]) -> Tensor:
    """The operator's pseudo-inverse, the zero-filled reconstruction (its magnitude, the RSS of the
    coil images for multi-coil data), computed with each item (``input``)."""
    return batch["input"]
