"""``mri_kspace`` end to end: eval.json and its baselines, 8x, fastMRI data, ``recon predict``."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import nibabel as nib
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from recon_kspace.fastmri_io import make_fake_fastmri
from tests.conftest import SMOKE, phantom_volume, write_nifti


def _ckpt(run: Path) -> Path:
    return run / "checkpoints" / "last.pt"


def test_eval_json_zero_filled_first_then_non_adversarial(kspace_runs: dict, cli) -> None:
    result = json.loads((kspace_runs["gan"] / "eval.json").read_text())
    assert result["task"] == "mri_kspace" and result["split"] == "test"
    assert result["n_images"] == 4 and result["n_volumes"] == 1
    conventions = result["conventions"]
    assert conventions["name"] == "fastmri" and "per volume" in conventions["input"] and "LoG" in conventions["hfen"]
    assert result["baseline"]["name"] == "zero-filled"
    assert [b["name"] for b in result["baselines"]] == ["zero-filled", "non-adversarial"]
    for metrics in [result["metrics"], *(b["metrics"] for b in result["baselines"])]:
        assert set(metrics) >= {"psnr", "ssim", "nmse", "hfen"}
        assert all(np.isfinite(v) for v in metrics.values())
    # the comparison is the plain checkpoint's generator scored on the same (4x) test inputs
    plain_at_4x = cli("eval", "--checkpoint", _ckpt(kspace_runs["plain"]), "--json", "-",
                      "--set", "mask.acceleration=4", "--set", "eval.max_images=4")
    assert plain_at_4x.code == 0, plain_at_4x.err
    assert result["baselines"][1]["metrics"] == pytest.approx(json.loads(plain_at_4x.out)["metrics"], rel=1e-5)


def test_zero_filled_scores_match_an_independent_computation(kspace_runs: dict) -> None:
    """Zero-filled = |numpy's centred inverse FFT| of the measured k-space, scored with skimage."""
    from recon.config import build_config
    from recon.plugins import get_task

    task = get_task("mri_kspace")
    dataset = task.build_dataset(build_config(task, "smoke"), "test")
    items = [dataset[i] for i in range(4)]
    gt = np.stack([it["target"][0].numpy() for it in items]).astype(np.float64)
    k = np.stack([it["kspace"][0].numpy() for it in items])
    zf = np.abs(np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k, axes=(-2, -1)), norm="ortho"), axes=(-2, -1)))
    zf = np.clip(zf, 0, 1)
    baseline = json.loads((kspace_runs["gan"] / "eval.json").read_text())["baseline"]["metrics"]
    assert baseline["nmse"] == pytest.approx(np.sum((gt - zf) ** 2) / np.sum(gt**2), rel=1e-4)
    assert baseline["psnr"] == pytest.approx(peak_signal_noise_ratio(gt, zf, data_range=gt.max()), rel=1e-4)


def test_acceleration_8_run(kspace_runs: dict) -> None:
    import yaml

    config = yaml.safe_load((kspace_runs["plain"] / "config.yaml").read_text())
    assert config["mask"]["acceleration"] == 8 and config["mask"]["center_fraction"] is None
    assert config["loss"]["adversarial"] == 0
    at8 = json.loads((kspace_runs["plain"] / "eval.json").read_text())["baseline"]["metrics"]
    at4 = json.loads((kspace_runs["gan"] / "eval.json").read_text())["baseline"]["metrics"]
    assert at8["nmse"] > 1.5 * at4["nmse"]  # the same slices, half the lines: zero-filled is worse


def _fully_sampled_file(path: Path, coils: int) -> Path:
    make_fake_fastmri(path, num_slices=3, num_coils=coils, shape=(32, 30), seed=3)
    with h5py.File(path, "a") as f:
        f.create_dataset("mask", data=np.ones(30, dtype=np.float32))  # "acquired" with every line
    return path


@pytest.mark.parametrize("coils", [0, 4])
def test_predict_fully_sampled_fastmri_is_the_reference(kspace_runs: dict, cli, tmp_path: Path, coils: int) -> None:
    """Hard data consistency with every line sampled: the output is the fastMRI reference
    (|ifft2c(k)| single-coil, the RSS multi-coil) in the file's units, whatever the weights."""
    source = _fully_sampled_file(tmp_path / "file1.h5", coils)
    out = tmp_path / "recon.nii.gz"
    result = cli("predict", "--checkpoint", _ckpt(kspace_runs["gan"]), source, "-o", out)
    assert result.code == 0, result.err
    with h5py.File(source) as f:
        reference = f["reconstruction_rss" if coils else "reconstruction_esc"][()]
    data = nib.load(str(out)).get_fdata()
    assert data.shape == (32, 30, 3)
    np.testing.assert_allclose(data.transpose(2, 0, 1), reference, rtol=1e-3, atol=1e-4 * reference.max())


def test_predict_undersamples_a_fully_sampled_file(kspace_runs: dict, cli, tmp_path: Path) -> None:
    source = make_fake_fastmri(tmp_path / "file2.h5", num_slices=2, num_coils=3, shape=(24, 26), seed=4)
    out = tmp_path / "recon.h5"  # fastMRI's submission layout
    result = cli("predict", "--checkpoint", _ckpt(kspace_runs["gan"]), source, "-o", out)
    assert result.code == 0, result.err
    with h5py.File(out) as f, h5py.File(source) as g:
        recon, reference = f["reconstruction"][()], g["reconstruction_rss"][()]
    assert recon.shape == (2, 24, 26) and np.isfinite(recon).all()
    assert not np.allclose(recon, reference, rtol=1e-3)  # 4x undersampled: not the reference itself


def test_predict_nifti_keeps_affine_and_shape(kspace_runs: dict, cli, tmp_path: Path) -> None:
    affine = np.array([[0.9, 0, 0, -40.0], [0, 1.1, 0, 12.5], [0, 0, 2.0, 7.0], [0, 0, 0, 1]])
    volume = phantom_volume((30, 26, 4)) * 500.0
    source = write_nifti(tmp_path / "t1.nii.gz", volume, affine)
    out = tmp_path / "recon.nii.gz"
    result = cli("predict", "--checkpoint", _ckpt(kspace_runs["gan"]), source, "-o", out)
    assert result.code == 0, result.err
    written = nib.load(str(out))
    assert np.allclose(written.affine, affine) and written.shape == volume.shape
    assert np.isfinite(written.get_fdata()).all()


def test_predict_png_keeps_size(kspace_runs: dict, cli, tmp_path: Path) -> None:
    from PIL import Image

    source = tmp_path / "slice.png"
    Image.fromarray((phantom_volume((45, 38, 3))[..., 1] * 255).clip(0, 255).astype(np.uint8)).save(source)
    out = tmp_path / "recon.png"
    result = cli("predict", "--checkpoint", _ckpt(kspace_runs["gan"]), source, "-o", out)
    assert result.code == 0, result.err
    assert Image.open(out).size == (38, 45)


def test_train_and_eval_on_multicoil_fastmri_files(cli, tmp_path: Path) -> None:
    data = tmp_path / "knee"
    data.mkdir()
    for i in range(3):
        make_fake_fastmri(data / f"file{i}.h5", num_slices=2, num_coils=4, shape=(32, 32), seed=i)
    run = tmp_path / "run"
    result = cli("run", "--task", "mri_kspace", *SMOKE, "--data", data, "--out", run,
                 "--set", "trainer.max_steps=2", "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0")
    assert result.code == 0, result.err
    evaluated = json.loads((run / "eval.json").read_text())
    assert evaluated["n_volumes"] == 1 and evaluated["n_images"] == 2  # one test file of two slices
    every = cli("eval", "--checkpoint", _ckpt(run), "--data", data, "--json", "-", "--set", "eval.max_images=0")
    assert every.code == 0, every.err
    assert json.loads(every.out)["n_volumes"] == 3  # --data: every file is evaluation data
