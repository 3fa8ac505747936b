"""recon's public API: the one module plugins and examples import.

Everything a task plugin needs is re-exported here under a stable name; the modules behind
these names are internal and may move. Import-linter contracts (``.importlinter``) keep the
built-in plugins and ``examples/`` on this module.

Importing ``recon.api`` is cheap: names resolve lazily on first use (PEP 562), so a plugin's
``__init__`` can import the hook marker without importing torch, and
``from recon.api import Task`` imports only what ``Task`` needs.

Groups (see the API reference in ``docs/``):

* plugin system: :data:`hookimpl`, :class:`Task`, the errors a task raises;
* configuration: the core config sections a task extends;
* physics: forward operators and the centred FFT (:mod:`recon.physics`);
* data: readers and writers, volumes, 2D image and 3D volume splits, random-patch datasets;
* networks, losses and metrics: shared building blocks with pinned conventions;
* evaluation: the paired and the generative evaluation loops, the batch iterator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # plugin system
    "hookimpl": "recon.hookspecs",
    "Task": "recon.task",
    "Parts": "recon.task",
    "ReferenceSamples": "recon.task",
    "SampleBaseline": "recon.task",
    "Sampler": "recon.task",
    "default_content_loss": "recon.task",
    "split_generated": "recon.task",
    "ConfigError": "recon.errors",
    "DataError": "recon.errors",
    "UsageError": "recon.errors",
    "CheckpointError": "recon.errors",
    # physics: forward operators and the centred FFT
    "Operator": "recon.physics",
    "LinearOperator": "recon.physics",
    "adjoint_by_autograd": "recon.physics",
    "IMAGE_DIMS": "recon.physics",
    "fftc": "recon.physics",
    "ifftc": "recon.physics",
    "fft2c": "recon.physics",
    "ifft2c": "recon.physics",
    "check_complex": "recon.physics",
    "complex_abs": "recon.physics",
    "rss": "recon.physics",
    "to_channels": "recon.physics",
    "to_complex": "recon.physics",
    "BlurDownsample": "recon.physics",
    "BicubicDownsample": "recon.physics",
    "KspaceTruncation": "recon.physics",
    "upsample": "recon.physics",
    "gaussian_blur": "recon.physics",
    "gaussian_kernel1d": "recon.physics",
    "MaskedFourier": "recon.physics",
    "FourierParams": "recon.physics",
    "MaskSampler": "recon.physics",
    "apply_mask": "recon.physics",
    "validate_mask": "recon.physics",
    "coil_combine_rss": "recon.physics",
    "normalize_maps": "recon.physics",
    "sense_combine": "recon.physics",
    "sense_expand": "recon.physics",
    "simulate_coil_maps": "recon.physics",
    "GaussianNoise": "recon.physics",
    "NoiseParams": "recon.physics",
    "RigidMotion": "recon.physics",
    "Trajectory": "recon.physics",
    "acquisition_order": "recon.physics",
    "center_rows": "recon.physics",
    "phase_ramp": "recon.physics",
    "rotate": "recon.physics",
    "Inpainting": "recon.physics",
    "InpaintingParams": "recon.physics",
    "HoleSampler": "recon.physics",
    "FILLS": "recon.physics",
    "biharmonic": "recon.physics",
    "fill_hole": "recon.physics",
    "pull_push": "recon.physics",
    # configuration
    "RunConfig": "recon.config",
    "DataConfig": "recon.config",
    "ModelConfig": "recon.config",
    "LossConfig": "recon.config",
    "EvalConfig": "recon.config",
    "GenerativeEvalConfig": "recon.config",
    "FileDataConfig": "recon.data.options",
    "ranged": "recon.config_ranges",
    "check_ranges": "recon.config_ranges",
    # data: files
    "IMAGE_SUFFIXES": "recon.data.readers",
    "is_image": "recon.data.readers",
    "is_nifti": "recon.data.readers",
    "read_any": "recon.data.readers",
    "read_image": "recon.data.readers",
    "read_nifti": "recon.data.readers",
    "write_image": "recon.data.readers",
    "write_nifti": "recon.data.readers",
    "write_like": "recon.prediction",
    "output_kind": "recon.prediction",
    "is_dicom_file": "recon.data.dicom",
    "predict_scan": "recon.prediction",
    "predict_volume": "recon.prediction",
    # data: volumes and preprocessing
    "Volume": "recon.data.volume",
    "check_finite": "recon.data.volume",
    "normalize_percentile": "recon.data.volume",
    "denormalize": "recon.data.volume",
    "LoadOptions": "recon.data.preprocess",
    "prepare": "recon.data.preprocess",
    # data: splits and datasets
    "ImageSpec": "recon.data.images2d",
    "load_split_images": "recon.data.images2d",
    "load_split_volumes": "recon.data.volumes3d",
    "plan_splits": "recon.data.split_plan",
    "record_split": "recon.data.split_record",
    "augment_spec": "recon.data.options",
    "image_spec": "recon.data.options",
    "build_augmentation": "recon.data.augmentation",
    "measurement_dataset": "recon.data.measurements",
    "params_from_batch": "recon.data.measurements",
    "measurement_pair": "recon.data.measurements",
    "MeasurementSlices": "recon.data.measurements",
    "MeasurementPatches": "recon.data.measurements",
    "MeasuredCrops": "recon.data.measurements",
    "SplitSample": "recon.data.device_measure",
    "ImageSamples": "recon.data.image_sets",
    "ImageList": "recon.data.image_sets",
    "AugmentSpec": "recon.data.augmentation",
    "load_options": "recon.data.images2d",
    "PairSpec": "recon.data.pairs2d",
    "load_split_pairs": "recon.data.pairs2d",
    "pair_spec": "recon.data.options",
    "load_source": "recon.data.collection",
    "builtin_name": "recon.data.collection",
    "CONTRASTS": "recon.data.contrasts",
    "cache_root": "recon.data.cache",
    "RandomPatchDataset": "recon.data.patches",
    "sample_generator": "recon.data.patches",
    "weighted_choice": "recon.data.patches",
    "area_weights": "recon.data.patches",
    "random_crop": "recon.data.patches",
    "random_dihedral": "recon.data.patches",
    "random_flips": "recon.data.patches",
    "random_flip_rotate": "recon.data.patches",
    "center_crop": "recon.data.patches",
    # networks
    "make_norm": "recon.nets",
    "PatchGANDiscriminator": "recon.nets",
    "SNPatchGANDiscriminator": "recon.nets",
    "VGGStyleDiscriminator": "recon.nets",
    "apply_spectral_norm": "recon.nets",
    # augmentation of D's inputs
    "AdaptiveAugment": "recon.augment",
    # losses
    "content_loss": "recon.losses",
    "AdversarialLoss": "recon.losses",
    "Objective": "recon.losses.objective",
    "GANObjective": "recon.losses.objective",
    "PhaseLoss": "recon.losses.objective",
    # metrics
    "CONVENTIONS": "recon.metrics",
    "image_metrics": "recon.metrics",
    "InceptionFeatureExtractor": "recon.metrics",
    "inception_status": "recon.metrics",
    "FeatureStats": "recon.metrics",
    "FeatureStatsCache": "recon.metrics",
    "hash_data": "recon.metrics",
    "fid_from_features": "recon.metrics",
    "kid": "recon.metrics",
    "inception_score": "recon.metrics",
    "TissueThresholds": "recon.metrics",
    "tissue_thresholds": "recon.metrics",
    "anatomy_properties": "recon.metrics",
    "anatomy_distances": "recon.metrics",
    # evaluation
    "evaluate_paired": "recon.evaluation",
    "evaluate_generative": "recon.generative_eval",
    "unwrap_module": "recon.generation",
    "indexed_latents": "recon.generation",
    "signed_to_unit": "recon.generation",
    "square_image": "recon.generation",
    "resize_square": "recon.generation",
    "iterate_batches": "recon.evaluation",
    "paired_methods": "recon.evaluation",
    "load_model": "recon.train.inference",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Resolve a public name on first use and cache it on the module."""
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'recon.api' has no attribute '{name}'")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static view of the same names, for type checkers and IDEs
    from recon.config import DataConfig, EvalConfig, GenerativeEvalConfig, LossConfig, ModelConfig, RunConfig
    from recon.config_ranges import check_ranges, ranged
    from recon.augment import AdaptiveAugment
    from recon.data.augmentation import AugmentSpec, build_augmentation
    from recon.data.cache import cache_root
    from recon.data.collection import builtin_name, load_source
    from recon.data.contrasts import CONTRASTS
    from recon.data.device_measure import SplitSample
    from recon.data.measurements import (MeasuredCrops, MeasurementPatches, MeasurementSlices, measurement_dataset,
                                         measurement_pair, params_from_batch)
    from recon.data.image_sets import ImageList, ImageSamples
    from recon.data.images2d import ImageSpec, load_options, load_split_images
    from recon.data.options import FileDataConfig, augment_spec, image_spec, pair_spec
    from recon.data.pairs2d import PairSpec, load_split_pairs
    from recon.data.patches import (RandomPatchDataset, area_weights, center_crop, random_crop, random_dihedral,
                                    random_flip_rotate, random_flips, sample_generator, weighted_choice)
    from recon.data.preprocess import LoadOptions, prepare
    from recon.data.readers import (IMAGE_SUFFIXES, is_image, is_nifti, read_any, read_image, read_nifti,
                                    write_image, write_nifti)
    from recon.data.split_plan import plan_splits
    from recon.data.split_record import record_split
    from recon.data.volume import Volume, check_finite, denormalize, normalize_percentile
    from recon.data.volumes3d import load_split_volumes
    from recon.prediction import output_kind, predict_scan, predict_volume, write_like
    from recon.data.dicom import is_dicom_file
    from recon.errors import CheckpointError, ConfigError, DataError, UsageError
    from recon.evaluation import evaluate_paired, iterate_batches, paired_methods
    from recon.generative_eval import evaluate_generative
    from recon.generation import indexed_latents, resize_square, signed_to_unit, square_image, unwrap_module
    from recon.train.inference import load_model
    from recon.hookspecs import hookimpl
    from recon.losses import AdversarialLoss, content_loss
    from recon.metrics import (CONVENTIONS, FeatureStats, FeatureStatsCache, InceptionFeatureExtractor,
                               TissueThresholds, anatomy_distances, anatomy_properties, fid_from_features,
                               hash_data, image_metrics, inception_score, inception_status, kid,
                               tissue_thresholds)
    from recon.physics import (BicubicDownsample, BlurDownsample, FILLS, FourierParams, GaussianNoise,
                                HoleSampler, IMAGE_DIMS, Inpainting, InpaintingParams, KspaceTruncation,
                                LinearOperator, MaskSampler, MaskedFourier, NoiseParams, Operator,
                                RigidMotion, Trajectory, acquisition_order, adjoint_by_autograd, apply_mask,
                                biharmonic, center_rows, check_complex, coil_combine_rss, complex_abs, fft2c,
                                fftc, fill_hole, gaussian_blur, gaussian_kernel1d, ifft2c, ifftc,
                                normalize_maps, phase_ramp, pull_push, rotate, rss, sense_combine,
                                sense_expand, simulate_coil_maps, to_channels, to_complex, upsample,
                                validate_mask)
    from recon.nets import (PatchGANDiscriminator, SNPatchGANDiscriminator, VGGStyleDiscriminator,
                            apply_spectral_norm, make_norm)
    from recon.losses.objective import GANObjective, Objective, PhaseLoss
    from recon.task import (Parts, ReferenceSamples, SampleBaseline, Sampler, Task, default_content_loss,
                            split_generated)
