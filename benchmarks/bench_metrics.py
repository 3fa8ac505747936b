"""Metric speed benchmarks (prints timings; asserts nothing).

    python benchmarks/bench_metrics.py                 # everything
    python benchmarks/bench_metrics.py --only ssim     # fastmri SSIM on 256x256x180
    python benchmarks/bench_metrics.py --only fid --n-images 200

Targets (issue 4, 2 CPU cores): SSIM (fastmri) on a 256x256x180 volume < 2 s; Inception
features for 1,000 images of 64x64 < 2 min. Each line gives the measured seconds and the
ratio to the target (< 1 meets it). CPU timings are only meaningful on an idle machine:
the load average is printed alongside.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

SSIM_TARGET_S = 2.0
FID_TARGET_S = 120.0


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[list[float], list[float], Any]:
    """Wall-clock and process CPU seconds of each of ``repeats`` calls, and the last result.

    CPU seconds help read results from a shared machine: wall time grows with the load,
    CPU time much less (spin-waiting thread pools still add some).
    """
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus, result


def _report(name: str, walls: list[float], cpus: list[float], target: float,
            extra: str = "") -> None:
    best, median = min(walls), statistics.median(walls)
    print(f"{name}: wall best {best:.3f} s, median {median:.3f} s over {len(walls)} run(s), "
          f"cpu {min(cpus):.3f} s; target {target:g} s, ratio {best / target:.3f} (best) "
          f"{median / target:.3f} (median){'; ' + extra if extra else ''}")


def bench_ssim(repeats: int, with_skimage: bool) -> None:
    from recon.metrics import psnr, ssim

    rng = np.random.default_rng(0)
    gt = rng.random((180, 256, 256))
    pred = gt + rng.normal(0.0, 0.1, gt.shape)
    ssim(gt[:4], pred[:4], "fastmri")  # warm-up (thread pool, page faults)
    walls, cpus, value = _timed(lambda: ssim(gt, pred, "fastmri"), repeats)
    _report("ssim fastmri 180x256x256", walls, cpus, SSIM_TARGET_S, f"ssim={value:.6f}")
    walls, _, _ = _timed(lambda: psnr(gt, pred, "fastmri"), repeats)
    print(f"psnr fastmri 180x256x256: best {min(walls):.3f} s")
    if with_skimage:
        from skimage.metrics import structural_similarity

        def reference() -> float:
            return float(np.mean([structural_similarity(gt[i], pred[i], data_range=gt.max())
                                  for i in range(gt.shape[0])]))

        ref_times, _, ref = _timed(reference, 1)
        print(f"  (skimage slice loop, for comparison: {ref_times[0]:.3f} s, "
              f"|difference| = {abs(ref - value):.2e})")


def bench_fid(n_images: int, batch_size: int) -> None:
    from recon.metrics import InceptionFeatureExtractor, fid_from_features, inception_status, kid

    ok, description = inception_status()
    if not ok:
        print(f"fid features: SKIPPED ({description})")
        return
    extractor = InceptionFeatureExtractor("cpu", batch_size=batch_size)
    print(f"fid weights: {extractor.weights_name}")
    images = torch.rand(n_images, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    extractor(images[:2])  # warm-up (TorchScript profiling runs)
    walls, cpus, (feats, _) = _timed(lambda: extractor(images), 1)
    target = FID_TARGET_S * n_images / 1000
    _report(f"fid features {n_images}x3x64x64 (batch {batch_size})", walls, cpus, target,
            f"{n_images / walls[0]:.1f} img/s")
    half = n_images // 2
    walls, _, value = _timed(lambda: fid_from_features(feats[:half], feats[half:]), 1)
    print(f"fid from 2x{half} pool3 features: {walls[0]:.3f} s (fid={value:.3f})")
    walls, _, _ = _timed(lambda: kid(feats[:half], feats[half:]), 1)
    print(f"kid (100 subsets of {min(1000, half)}): {walls[0]:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["ssim", "fid"], default=None)
    parser.add_argument("--repeats", type=int, default=3, help="SSIM repetitions")
    parser.add_argument("--n-images", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--skimage", action="store_true", help="also time skimage's SSIM loop")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cpus={cpus} torch_threads={torch.get_num_threads()} load_avg_1min={load:.2f} "
          f"torch={torch.__version__}")
    if args.only in (None, "ssim"):
        bench_ssim(args.repeats, args.skimage)
    if args.only in (None, "fid"):
        bench_fid(args.n_images, args.batch_size)


if __name__ == "__main__":
    main()
