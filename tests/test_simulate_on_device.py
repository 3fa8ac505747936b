"""``data.simulate_on=device``: the training degradation batched on the training device.

The device path draws the same parameters per sample (same generator) and measures the collated
batch: its training batches equal the CPU path's to float tolerance, a run trains, evaluates and
resumes bit-exactly with it, and a task whose samples cannot be measured batched is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader

from recon.config import build_config
from recon.data.device_measure import SplitSample
from recon.data.measurements import measurement_pair
from recon.data.patches import RandomPatchDataset
from recon.plugins import get_task
from recon.train.checkpoint import load_checkpoint
from recon.train.device_simulation import device_simulation
from recon.train.runtime import DistInfo
from recon.train.sampler import StepBatchSampler

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]
DEVICE = ["--set", "data.simulate_on=device"]


def _first_batches(task_name: str, overrides: list[str], batches: int = 2) -> tuple[list[dict], list[dict]]:
    """The first training batches of the smoke preset: the CPU path's and the device path's (on the CPU)."""
    task = get_task(task_name)
    cpu_cfg = build_config(task, "smoke", overrides=overrides)
    dev_cfg = build_config(task, "smoke", overrides=[*overrides, "data.simulate_on=device"])
    train_set = task.build_dataset(cpu_cfg, "train")
    simulation = device_simulation(task, dev_cfg, task.build_dataset(dev_cfg, "train"), lambda batch: batch)
    assert simulation is not None
    out = []
    for dataset in (train_set, simulation.dataset):
        sampler = StepBatchSampler(cpu_cfg.trainer.batch_size, 1, DistInfo())
        loader = iter(DataLoader(dataset, batch_sampler=sampler))
        out.append([next(loader) for _ in range(batches)])
    return out[0], [simulation(batch) for batch in out[1]]


def _assert_close_batches(cpu: dict[str, Any], device: dict[str, Any]) -> None:
    assert list(cpu) == list(device)  # the same keys, in the same order
    for key, value in cpu.items():
        if isinstance(value, dict):
            _assert_close_batches(value, device[key])
            continue
        assert value.shape == device[key].shape and value.dtype == device[key].dtype, key
        assert torch.allclose(value, device[key], atol=1e-5, rtol=0), (key, (value - device[key]).abs().max())


@pytest.mark.parametrize("task_name,overrides", [
    ("mri_superres", []),
    ("mri_superres", ["data.noise_std=0.05", "data.degradation=kspace"]),
    ("srgan", ["data.noise_std=0.02"]),
    ("mri_superres_3d", []),
    ("mri_kspace", []),
    ("mri_kspace", ["data.coils=4", "data.noise_std=0.01", "mask.kind=random"]),
])
def test_device_batches_equal_the_cpu_batches(task_name: str, overrides: list[str]) -> None:
    cpu, device = _first_batches(task_name, overrides)
    for a, b in zip(cpu, device, strict=True):
        _assert_close_batches(a, b)


def _core_operators() -> list[Any]:
    from recon.physics import (BicubicDownsample, BlurDownsample, GaussianNoise, Inpainting, KspaceTruncation,
                               RigidMotion)

    def hole(shape: tuple[int, int], rng: torch.Generator | None) -> torch.Tensor:
        h, w = shape
        top, left = (int(torch.randint(0, n // 2, (1,), generator=rng)) for n in (h, w))
        mask = torch.zeros(1, h, w)
        mask[:, top:top + h // 2, left:left + w // 2] = 1
        return mask

    return [BlurDownsample(2), BicubicDownsample(2), KspaceTruncation(2), GaussianNoise(0.1),
            RigidMotion(num_events=2), Inpainting("zero", mask_sampler=hole)]


@pytest.mark.parametrize("operator", _core_operators(), ids=lambda op: type(op).__name__)
def test_core_operators_measure_batched_with_collated_params(operator: Any) -> None:
    """core's measurement_pair: forward(target (N, C, H, W), collated params) == per-sample forward."""
    gen = torch.Generator().manual_seed(0)
    images = [torch.rand(1, 24, 24, generator=gen) for _ in range(3)]
    pair = measurement_pair(operator)
    assert isinstance(pair, SplitSample) and not pair.refusal
    dataset = RandomPatchDataset(images, 16, seed=3, transform=pair)
    cpu = next(iter(DataLoader(dataset, batch_size=4)))
    drawing = RandomPatchDataset(images, 16, seed=3, transform=pair.draw)
    device = pair.measure(next(iter(DataLoader(drawing, batch_size=4))))
    _assert_close_batches(cpu, device)


@pytest.mark.parametrize("task_name", ["mri_motion", "inpainting"])
def test_tasks_with_their_own_sample_makers_are_refused(cli, tmp_path: Path, task_name: str) -> None:
    result = cli("run", "--task", task_name, *SMOKE, *DEVICE, "--out", tmp_path / "run")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "data.simulate_on=device" in lines[0] and f"task {task_name}" in lines[0], result.err


def test_cpu_is_the_default_and_unknown_values_are_refused(cli, tmp_path: Path) -> None:
    assert build_config(get_task("mri_superres"), "smoke").data.simulate_on == "cpu"
    result = cli("run", "--task", "mri_superres", *SMOKE, "--set", "data.simulate_on=gpu", "--out", tmp_path / "r")
    assert result.code == 2 and "simulate_on" in result.err


def test_smoke_run_trains_and_evaluates_on_the_device_path(cli, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("run", "--task", "mri_superres", *SMOKE, *DEVICE, "--set", "trainer.max_steps=3", "--out", out)
    assert result.code == 0, result.err
    assert (out / "eval.json").is_file() and (out / "checkpoints" / "last.pt").is_file()


def _flatten(tree: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _flatten(sub, f"{prefix}{key}.").items()}
    if isinstance(tree, (list, tuple)):
        return {k: v for i, sub in enumerate(tree) for k, v in _flatten(sub, f"{prefix}{i}.").items()}
    return {prefix: tree} if torch.is_tensor(tree) else {}


def test_resume_is_bit_exact_with_device_simulation(cli, tmp_path: Path) -> None:
    args = ["run", "--task", "mri_kspace", *SMOKE, *DEVICE, "--set", "trainer.eval_every=0",
            "--set", "trainer.sample_every=0"]
    assert cli(*args, "--set", "trainer.max_steps=4", "--out", tmp_path / "full").code == 0
    assert cli(*args, "--set", "trainer.max_steps=2", "--out", tmp_path / "part").code == 0
    resumed = cli("run", "--task", "mri_kspace", "--resume", "--out", tmp_path / "part",
                  "--set", "trainer.max_steps=4")
    assert resumed.code == 0, resumed.err
    a = load_checkpoint(tmp_path / "full" / "checkpoints" / "last.pt")
    b = load_checkpoint(tmp_path / "part" / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 4
    assert b["config"]["data"]["simulate_on"] == "device"
    for group in ("nets", "optim"):
        flat_a, flat_b = _flatten(a[group]), _flatten(b[group])
        assert flat_a.keys() == flat_b.keys()
        for key in flat_a:
            assert torch.equal(flat_a[key], flat_b[key]), f"{group}.{key}"
