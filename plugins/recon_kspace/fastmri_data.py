"""Datasets of real fastMRI k-space (``--data`` a folder or file of ``.h5``), used as is.

Fully sampled training/validation files are undersampled retrospectively with the run's mask;
their k-space keeps its true phase and coil sensitivities (no simulation). Each volume is
divided by the maximum of its reference image (``reconstruction_esc`` single-coil,
``reconstruction_rss`` multi-coil), so targets lie in [0, 1]; NMSE, PSNR (data range = volume
max) and SSIM are invariant to that scale, so the scores equal fastMRI's on the raw data.

The model reconstructs the whole field of view (e.g. 640x368); the output and the zero-filled
``input`` are centre-cropped to the reference's size (320x320), fastMRI's evaluation crop.
Multi-coil k-space has no coil maps: they are estimated from the calibration region
(:mod:`recon_kspace.calibration`). Batch keys are those of :mod:`recon_kspace.data`.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon.api import sample_generator, weighted_choice
from recon.api import plan_splits
from recon.api import DataError
from recon.api import FourierParams, to_channels
from recon_kspace.calibration import estimate_maps
from recon_kspace.data import Simulation, one_thread
from recon_kspace.fastmri_io import fastmri_info, read_fastmri_slice
from recon_kspace.simulate import FOURIER

HDF5_SUFFIXES = (".h5", ".hdf5")
TARGET_KEYS = ("reconstruction_rss", "reconstruction_esc")


def fastmri_files(source: str) -> list[Path] | None:
    """The ``.h5`` files of ``source`` (a file or a folder searched recursively), or ``None``
    when ``source`` is not a path holding any (a built-in source, images, NIfTI)."""
    path = Path(source).expanduser()
    if not source or not path.exists():
        return None
    if path.is_file():
        return [path] if path.suffix.lower() in HDF5_SUFFIXES else None
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in HDF5_SUFFIXES)
    return files or None


def center_crop(x: Tensor, shape: tuple[int, int]) -> Tensor:
    """fastMRI's centre crop of the last two dims to ``shape`` (no-op where already smaller)."""
    h, w = x.shape[-2:]
    ch, cw = min(shape[0], h), min(shape[1], w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return x[..., top:top + ch, left:left + cw]


@dataclass(frozen=True)
class VolumeInfo:
    """What the datasets need to know of one file without reading its k-space."""

    path: str
    num_slices: int
    kspace_shape: tuple[int, int, int]  # (C, H, W), C = 1 single-coil
    crop: tuple[int, int]  # the evaluation crop: the reference size, at most the k-space size
    scale: float  # the maximum of the reference volume


def scan_file(path: Path) -> VolumeInfo:
    """Check one training/evaluation file (k-space and a reference image); DataError otherwise."""
    import h5py

    info = fastmri_info(path)  # no kspace, wrong rank/dtype, not HDF5: DataError naming the file
    shape = info["shape"]
    kshape = (1, *shape[1:]) if len(shape) == 3 else tuple(shape[1:])
    order = TARGET_KEYS if info["multicoil"] else TARGET_KEYS[::-1]
    with h5py.File(path, "r") as f:
        key = next((k for k in order if k in f), None)
        if key is None:
            raise DataError(f"{path}: no reconstruction_esc/reconstruction_rss reference (a test or challenge "
                            f"file?); training and evaluation need one; reconstruct it with `recon predict`")
        target = f[key]
        if target.ndim != 3 or target.shape[0] != shape[0]:
            raise DataError(f"{path}: {key} has shape {tuple(target.shape)}, expected ({shape[0]}, h, w)")
        scale = float(np.max(target[()]))
    if not np.isfinite(scale) or scale <= 0:
        raise DataError(f"{path}: {key} has no positive value (max {scale})")
    crop = (min(target.shape[1], kshape[1]), min(target.shape[2], kshape[2]))
    return VolumeInfo(str(path), int(shape[0]), (int(kshape[0]), int(kshape[1]), int(kshape[2])), crop, scale)


@functools.lru_cache(maxsize=8)
def _scan(source: str, skip_bad: bool) -> tuple[tuple[VolumeInfo, ...], tuple[str, ...]]:
    """Every usable file of ``source`` and one message per file left out by ``skip_bad``."""
    out, skipped = [], []
    for path in fastmri_files(source) or []:
        try:
            out.append(scan_file(path))
        except DataError as exc:
            if not skip_bad:
                raise
            skipped.append(str(exc))
    if skipped:
        import sys

        print(f"recon: skipped {len(skipped)} bad fastMRI file(s) (data.skip_bad=true)", file=sys.stderr)
    if not out:
        raise DataError(f"{source}: no usable fastMRI files")
    return tuple(out), tuple(skipped)


def scan_source(source: str, skip_bad: bool) -> tuple[VolumeInfo, ...]:
    """Every usable file of ``source`` (bad files are errors unless ``skip_bad``)."""
    return _scan(source, skip_bad)[0]


def _plan(cfg: object, files: tuple[VolumeInfo, ...]) -> Any:
    """The split plan of the files (``recon.api.plan_splits``: by file, or none with holdout off)."""
    d = cfg.data  # type: ignore[attr-defined]
    return plan_splits(d.source, [f.path for f in files], None, val_fraction=d.val_fraction,
                       test_fraction=d.test_fraction, gap=d.gap, seed=cfg.seed, holdout=d.holdout)  # type: ignore[attr-defined]


def split_volumes(cfg: object, split: str) -> list[VolumeInfo]:
    """The files of ``split``: by file with a fixed seed (at least 3 files), or all with holdout off."""
    d = cfg.data  # type: ignore[attr-defined]
    files = scan_source(d.source, d.skip_bad)
    chosen = [files[i] for i in _plan(cfg, files).volumes[split]]
    from recon.api import record_split

    record_split(f"fastmri:{d.source}", split_record(cfg))  # splits.json of the run
    if not chosen:
        raise DataError(f"{d.source}: the {split} split holds no files")
    return chosen


def split_record(cfg: object) -> dict[str, Any]:
    """The ``splits.json`` record of the files of every split (the format of core's loaders:
    rule, seed, fractions, ``items`` per split, skipped files, each file's normalisation:
    ``value = x * scale`` maps a target back to the file's units)."""
    d = cfg.data  # type: ignore[attr-defined]
    files, skipped = _scan(d.source, d.skip_bad)
    info = {"kind": "fastmri", "seed": cfg.seed, "gap": d.gap,  # type: ignore[attr-defined]
            "val_fraction": d.val_fraction, "test_fraction": d.test_fraction, "skipped": list(skipped),
            "normalization": {f.path: {"method": "max", "offset": 0.0, "scale": f.scale} for f in files},
            "num_slices": {f.path: f.num_slices for f in files}}
    return _plan(cfg, files).record(d.source, [f.path for f in files], info)


def measured_item(kspace: Tensor, mask: Tensor, crop: tuple[int, int], full: bool = False) -> dict[str, Tensor]:
    """The generator's inputs from coil k-space ``(C, H, W)`` and a bool mask ``(1, W)``/``(H, W)``:
    ``input`` (zero-filled magnitude cropped to ``crop``), ``zero_filled``, ``kspace`` (masked),
    ``mask``, ``maps`` (estimated, multi-coil) and, with ``full``, ``kspace_full``."""
    with one_thread():
        masked = FOURIER.mask_kspace(kspace, FourierParams(mask))
        params = FourierParams(mask, estimate_maps(masked, mask) if kspace.shape[0] > 1 else None)
        maps = params.maps
        zf = FOURIER.pseudo_inverse(masked, params)
        zf_mag = FOURIER.zero_filled_magnitude(masked, params)
    item = {
        "input": center_crop(zf_mag, crop)[None].float().contiguous(),
        "zero_filled": to_channels(zf, dim=0).float(),
        "kspace": masked.to(torch.complex64),
        "mask": mask.reshape(1, *mask.shape).float(),
    }
    if maps is not None:
        item["maps"] = maps.to(torch.complex64)
    if full:
        item["kspace_full"] = kspace.to(torch.complex64)
    return item


def slice_item(vol: VolumeInfo, index: int, sim: Simulation, mask_seed: int, full: bool = False) -> dict[str, Tensor]:
    """One slice of a file, scaled by the volume's maximum, with a retrospective mask and its target."""
    kspace, target = read_fastmri_slice(vol.path, index)
    kspace = kspace / vol.scale
    item = measured_item(kspace, sim.mask((kspace.shape[-2], kspace.shape[-1]), mask_seed), vol.crop, full)
    ref = torch.from_numpy(np.asarray(target, dtype=np.float32) / vol.scale).clamp(0, 1)
    item["target"] = center_crop(ref, vol.crop)[None].contiguous()
    return item


class FastMRITrainDataset(Dataset):
    """Item ``i``: a random slice of a random file with a random mask, from ``(seed, i)`` alone."""

    def __init__(self, volumes: list[VolumeInfo], sim: Simulation, seed: int, batch_size: int,
                 length: int = 2**31 - 1) -> None:
        shapes = {(v.kspace_shape, v.crop) for v in volumes}
        if len(shapes) > 1 and batch_size > 1:
            raise DataError(f"the training files differ in k-space or reference size ({len(shapes)} kinds, e.g. "
                            f"{sorted(shapes)[0]}); batches need equal shapes: use trainer.batch_size=1")
        self.volumes, self.sim, self.seed, self.length = volumes, sim, seed, length
        weights = torch.tensor([float(v.num_slices) for v in volumes])
        self.weights = weights / weights.sum()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        rng = sample_generator(self.seed, index)
        vol = self.volumes[weighted_choice(self.weights, rng)]
        slice_index = int(torch.randint(0, vol.num_slices, (1,), generator=rng))
        mask_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=rng))
        return slice_item(vol, slice_index, self.sim, mask_seed, full=True)


class FastMRIEvalDataset(Dataset):
    """Every slice of every file; one mask per volume (seeded by the file name, as fastMRI does)."""

    def __init__(self, volumes: list[VolumeInfo], sim: Simulation) -> None:
        self.volumes, self.sim = volumes, sim
        self.index = [(v, s) for v in range(len(volumes)) for s in range(volumes[v].num_slices)]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        v, s = self.index[index]
        vol = self.volumes[v]
        item = slice_item(vol, s, self.sim, zlib.crc32(Path(vol.path).name.encode()))
        item["volume"] = torch.tensor(v)
        return item
