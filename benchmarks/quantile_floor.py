"""Where the unpaired quantile map of ``mri_translation_unpaired`` loses to the paired lookup.

``python -m benchmarks.quantile_floor`` fits the task's quantile map (default preset, the two
unpaired training halves) at several ``model.quantile_floor`` values and scores it on the
aligned test slices (:func:`recon_translation.quantile_map.apply_map`, decreasing: T1 -> T2).
The floor decides which dim pixels count as tissue when the two domains' quantiles are
matched. For each floor it prints the patch distance the task uses to pick the polarity (sliced
Wasserstein distance of 5x5 patches, :mod:`recon_translation.quantile_map`), the test MSE,
and skimage's SSIM per slice (``data_range`` = the target slice's maximum, then the mean; not
the fastMRI convention of ``eval.json``, so compare within this table), plus the paired lookup
oracle and the share of the map's squared error that lies within one pixel of the
background (the brain's rim). No pairs are used to fit anything but the oracle.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import numpy as np
import torch
from scipy import ndimage
from skimage.metrics import structural_similarity

FLOORS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)


def tissue_map(x: np.ndarray, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """The task's decreasing quantile map of a ``(1, H, W)`` slice, as ``(H, W)``."""
    from recon_translation.quantile_map import apply_map

    return apply_map(torch.from_numpy(x)[None], torch.from_numpy(qa), torch.from_numpy(qb), -1.0)[0, 0].numpy()


def main() -> None:
    from recon.config import build_config
    from recon.plugins import get_task
    from recon_translation import data as pairs
    from recon_translation import unpaired_data
    from recon_translation.quantile_map import N_PATCHES, foreground_quantiles, random_patches, sliced_wasserstein
    from recon_translation.unpaired_baselines import UnpairedIntensity

    task = get_task("mri_translation_unpaired")
    cfg = build_config(task, "default", overrides=[], device="cpu")
    domain_a, domain_b = unpaired_data.training_domains(cfg)
    a_images = [np.asarray(im, np.float64) for _, im, _ in domain_a]
    b_images = [np.asarray(im, np.float64) for _, im, _ in domain_b]
    source, target = pairs.roles(cfg)
    test = [(np.asarray(im[source], np.float64), np.asarray(im[target], np.float64)[0])
            for _, im in pairs.load_pairs(cfg, "test")]
    train = pairs.load_pairs(cfg, "train")
    oracle = UnpairedIntensity().fit([im[source] for _, im in train], [im[target] for _, im in train])

    def scores(predict: Callable[[np.ndarray], np.ndarray]) -> tuple[float, float, float]:
        ssim, mse, rim = [], [], 0.0
        total = 0.0
        for x, y in test:
            p = predict(x)
            err = (p - y) ** 2
            ssim.append(structural_similarity(p, y, data_range=float(y.max())))
            mse.append(float(err.mean()))
            near = ndimage.distance_transform_edt(x[0] > 0) <= 1
            rim += float(err[near & ((x[0] > 0) | (y > 0))].sum())
            total += float(err.sum())
        return float(np.mean(ssim)), float(np.mean(mse)), rim / max(total, 1e-12)

    lookup = scores(lambda x: oracle.intensity_lookup(torch.from_numpy(x).float()[None])[0, 0].double().numpy())
    print(f"paired lookup oracle: SSIM {lookup[0]:.4f}  MSE {lookup[1]:.5f}  rim share {lookup[2]:.2f}")
    real = random_patches(b_images, N_PATCHES, np.random.default_rng(0))
    print("floor | patch distance (decreasing) | test SSIM | test MSE | rim share of the squared error")
    for floor in FLOORS:
        qa, qb = foreground_quantiles(a_images, 2048, floor), foreground_quantiles(b_images, 2048, floor)
        mapped = [tissue_map(im, qa, qb)[None] for im in a_images]
        distance = sliced_wasserstein(random_patches(mapped, N_PATCHES, np.random.default_rng(1)), real,
                                      np.random.default_rng(2))
        ssim, mse, rim = scores(partial(tissue_map, qa=qa, qb=qb))
        print(f"{floor:.2f} | {distance:.4f} | {ssim:.4f} | {mse:.5f} | {rim:.2f}")


if __name__ == "__main__":
    main()
