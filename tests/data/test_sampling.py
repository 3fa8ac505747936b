"""Sampling: slices, 3D patches, splits (and splits.json), caching, workers, augmentation, sources."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from recon.data.collection import load_source
from recon.data.images2d import ImageSpec, load_split_images
from recon.data.patches import RandomPatchDataset
from recon.data.preprocess import LoadOptions
from recon.data.split_record import write_splits
from tests.data.helpers import nifti_folder, write_nifti


def test_slices_along_an_axis_skip_empty_ones(tmp_path: Path) -> None:
    volume = np.zeros((20, 24, 16), np.float32)
    volume[4:16, 6:18, 5:11] = 0.5 + np.random.default_rng(0).random((12, 12, 6))  # only z = 5..10 hold anything
    write_nifti(tmp_path / "v.nii.gz", volume)
    axial = load_split_images(ImageSpec(source=str(tmp_path / "v.nii.gz"), holdout=False, min_foreground=0.05),
                              "test")
    assert len(axial) == 6 and axial[0][1].shape == (1, 20, 24)
    sagittal = load_split_images(ImageSpec(source=str(tmp_path / "v.nii.gz"), axis=0, holdout=False,
                                           min_foreground=0.05), "test")
    assert len(sagittal) == 12 and sagittal[0][1].shape == (1, 24, 16)


def test_subject_split_is_disjoint_seeded_and_written(tmp_path: Path) -> None:
    folder = nifti_folder(tmp_path / "scans", n=6, shape=(24, 24, 12))
    spec = ImageSpec(source=str(folder), seed=3)
    ids = {s: {vid for vid, _ in load_split_images(spec, s)} for s in ("train", "val", "test")}
    assert ids["train"].isdisjoint(ids["val"]) and ids["train"].isdisjoint(ids["test"])
    assert ids["val"].isdisjoint(ids["test"]) and len(set().union(*ids.values())) == 6
    path = write_splits(tmp_path / "run", str(folder))
    record = json.loads(path.read_text())["sources"][0]
    assert record["method"] == "subject" and record["seed"] == 3
    files = {s: {Path(p).name for p in record["splits"][s]["items"]} for s in ("train", "val", "test")}
    assert files["test"] == {f"sub{i:02d}.nii.gz" for i in sorted(ids["test"])}
    assert set(record["normalization"][str(folder / "sub00.nii.gz")]) >= {"method", "offset", "scale"}


def test_patches_3d_are_cubes_and_pure_functions_of_the_index() -> None:
    volumes = [torch.rand(1, 20, 18, 16), torch.rand(1, 16, 16, 16)]
    data = RandomPatchDataset(volumes, 8, seed=1, transform=lambda p, rng: {"target": p})
    a, b = data[5]["target"], data[5]["target"]
    assert a.shape == (1, 8, 8, 8) and torch.equal(a, b) and not torch.equal(a, data[6]["target"])


def test_workers_deliver_the_same_batches() -> None:
    from torch.utils.data import DataLoader

    from recon.train.runtime import DistInfo
    from recon.train.sampler import StepBatchSampler

    data = RandomPatchDataset([torch.rand(1, 40, 40)], 16, seed=0, transform=lambda p, rng: {"target": p})

    def batches(workers: int) -> list[torch.Tensor]:
        sampler = StepBatchSampler(4, 1, DistInfo(rank=0, world_size=1, local_rank=0), start_step=2)
        loader = iter(DataLoader(data, batch_sampler=sampler, num_workers=workers))
        return [next(loader)["target"] for _ in range(3)]

    for x, y in zip(batches(0), batches(2), strict=True):
        assert torch.equal(x, y)


def _count_opens(paths_under: Path):  # noqa: ANN202 - an audit-hook counter
    opened: list[str] = []

    def hook(event: str, args: tuple) -> None:
        if event == "open" and isinstance(args[0], (str, Path)) and str(args[0]).startswith(str(paths_under)):
            opened.append(str(args[0]))
    sys.addaudithook(hook)  # hooks cannot be removed: it only records paths under this test's tmp dir
    return opened


def test_second_epoch_reads_no_files_and_disk_cache_skips_decoding(tmp_path: Path) -> None:
    folder = nifti_folder(tmp_path / "scans", n=3, shape=(24, 24, 12))
    opened = _count_opens(tmp_path)
    spec = ImageSpec(source=str(folder), cache_dir=str(tmp_path / "cache"))
    images = load_split_images(spec, "train")
    first = len(opened)
    assert any(p.endswith(".nii.gz") for p in opened)
    data = RandomPatchDataset([torch.from_numpy(a) for _, a in images], 16, 0, lambda p, rng: {"target": p})
    for epoch in range(2):
        for i in range(50):
            data[epoch * 50 + i]
    load_split_images(spec, "val")  # the other splits reuse the decoded volumes
    assert len(opened) == first
    load_source.cache_clear()  # a new process: only the prepared arrays in the disk cache are read
    load_split_images.cache_clear()
    load_split_images(spec, "train")
    later = opened[first:]
    assert later and all(p.startswith(str(tmp_path / "cache")) for p in later), later


def test_skip_bad_lists_what_it_skipped(tmp_path: Path, capsys) -> None:
    folder = nifti_folder(tmp_path / "scans", n=3, shape=(16, 16, 8))
    (folder / "broken.nii.gz").write_bytes(b"not a nifti")
    loaded = load_source(str(folder), LoadOptions(skip_bad=True))
    assert len(loaded.volumes) == 3 and len(loaded.skipped) == 1 and "broken.nii.gz" in loaded.skipped[0]
    assert "skipped 1 bad file(s)" in capsys.readouterr().err


def test_faces_and_natural_sources() -> None:
    from recon.data.sources import faces, natural_images

    face_list = faces()
    assert len(face_list) == 200 and all(f.array.shape == (1, 25, 25) for f in face_list)
    assert 0.0 <= min(float(f.array.min()) for f in face_list) and max(float(f.array.max()) for f in face_list) <= 1
    photos = natural_images()
    assert len(photos) >= 10 and all(p.array.shape[0] == 3 and p.array.dtype == np.float32 for p in photos)
    names = {p.source for p in photos}
    assert not names & {"skimage:colorwheel", "skimage:hubble_deep_field"}  # photographs only
    arrays = [p.array for p in photos]
    same = [(photos[i].source, photos[j].source) for i in range(len(arrays)) for j in range(i)
            if arrays[i].shape == arrays[j].shape and np.array_equal(arrays[i], arrays[j])]
    assert not same  # skimage's cat() is chelsea(): one photograph must not be two items


def test_natural_splits_keep_their_test_photographs() -> None:
    """Replacing the duplicate kept the seeded test split (the published srgan numbers)."""
    from recon.data.sources import natural_images
    from recon.data.splits import subject_split

    names = [p.source for p in natural_images()]
    test = [names[i] for i in subject_split(len(names), 0.15, 0.2, 0)["test"]]
    assert test == ["skimage:immunohistochemistry", "skimage:camera"]


@pytest.mark.parametrize("kind", ["affine", "elastic", "intensity"])
@pytest.mark.parametrize("dims", [2, 3])
def test_augmentation_is_seeded_and_sane(kind: str, dims: int) -> None:
    from recon.data.augmentation import AugmentSpec, build_augmentation

    if kind == "elastic" and dims == 3:
        size = 12  # MONAI's 3D elastic warp is slow: keep the cube small
    else:
        size = 24
    augment = build_augmentation(AugmentSpec(**{kind: 1.0}))
    grid = torch.stack(torch.meshgrid(*[torch.linspace(-1, 1, size)] * dims, indexing="ij"))
    disk = ((grid**2).sum(0) < 0.4).float()[None] * 0.8
    a = augment(disk, torch.Generator().manual_seed(4))
    assert torch.equal(a, augment(disk, torch.Generator().manual_seed(4)))
    assert a.shape == disk.shape and not torch.equal(a, disk)
    assert float(a.min()) >= -1e-4 and float(a.max()) <= 1.0 + 1e-4
    if kind != "intensity":  # geometry moves, mass stays (up to scaling by <= 10 % per axis)
        assert float(a.sum()) == pytest.approx(float(disk.sum()), rel=0.25 * dims / 2 + 0.1)
        flat = torch.full_like(disk, 0.5)
        assert torch.allclose(augment(flat, torch.Generator().manual_seed(4)), flat, atol=1e-4)
