"""Type stub: the eager view of the lazily resolved names in ``__init__.py``."""

from recon.metrics.anatomy import TissueThresholds, anatomy_distances, anatomy_properties, tissue_thresholds
from recon.metrics.cache import FeatureStats, FeatureStatsCache, hash_data
from recon.metrics.color import rgb_to_y
from recon.metrics.conventions import CONVENTIONS, IMAGE_CONVENTIONS, describe
from recon.metrics.frechet import (
    feature_stats,
    fid_from_features,
    frechet_distance,
    inception_score,
    kid,
)
from recon.metrics.functional import image_metrics, nmse, psnr, ssim
from recon.metrics.inception import InceptionFeatureExtractor, inception_status
from recon.metrics.patch_kid import patch_distribution
from recon.metrics.per_class import ClassScores, class_key, class_scores
from recon.metrics.perceptual import LPIPS, lpips, lpips_status
from recon.metrics.st_lpips import STLPIPS, st_lpips, st_lpips_status

__all__ = [
    "CONVENTIONS",
    "ClassScores",
    "FeatureStats",
    "FeatureStatsCache",
    "IMAGE_CONVENTIONS",
    "InceptionFeatureExtractor",
    "LPIPS",
    "STLPIPS",
    "TissueThresholds",
    "anatomy_distances",
    "anatomy_properties",
    "class_key",
    "class_scores",
    "describe",
    "feature_stats",
    "fid_from_features",
    "frechet_distance",
    "hash_data",
    "image_metrics",
    "inception_score",
    "inception_status",
    "kid",
    "lpips",
    "lpips_status",
    "nmse",
    "patch_distribution",
    "psnr",
    "rgb_to_y",
    "ssim",
    "st_lpips",
    "st_lpips_status",
    "tissue_thresholds",
]
