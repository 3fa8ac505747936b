"""``mri_translation_unpaired`` (CycleGAN) through the CLI: run, eval.json, eval, predict, resume, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import SMOKE, one_intra_op_thread, phantom_volume, write_nifti

TASK = "mri_translation_unpaired"
HISTOGRAM = "histogram-matched source"
QUANTILE = "quantile map (unpaired)"
ORACLE = "intensity lookup (paired oracle)"


def assert_clean_failure(result, fragment: str) -> None:
    assert result.code == 2, (result.code, result.err)
    lines = [line for line in result.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    assert fragment in lines[0], lines[0]


def _logs(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def smoke_cycle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``recon run --task mri_translation_unpaired --preset smoke`` shared by read-only tests."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("unpaired") / "run"
    with one_intra_op_thread():
        assert main(["run", "--task", TASK, *SMOKE, "--out", str(out)]) == 0
    return out


def test_smoke_run_writes_eval_json_with_both_baselines(smoke_cycle: Path) -> None:
    for name in ("config.yaml", "metrics.jsonl", "checkpoints/last.pt", "eval.json"):
        assert (smoke_cycle / name).exists(), name
    assert list((smoke_cycle / "samples").glob("*.png"))
    result = json.loads((smoke_cycle / "eval.json").read_text())
    assert result["task"] == TASK and result["split"] == "test" and result["n_images"] == 4
    assert result["baseline"]["name"] == HISTOGRAM
    assert [b["name"] for b in result["baselines"]] == [HISTOGRAM, QUANTILE, ORACLE]
    for entry in [{"metrics": result["metrics"]}, *result["baselines"]]:
        assert set(entry["metrics"]) == {"psnr", "ssim", "nmse", "st_lpips"}
        assert all(np.isfinite(v) for v in entry["metrics"].values())
    logged = set().union(*(entry.keys() for entry in _logs(smoke_cycle)))
    assert {"d_a", "d_b", "g_adv", "cycle", "cycle_a", "cycle_b"} <= logged
    config = (smoke_cycle / "config.yaml").read_text()
    assert "cycle: 10.0" in config and "output: quantile_residual" in config


def test_evaluation_uses_the_paired_task_test_slices(smoke_cycle: Path) -> None:
    """Same aligned test slices as mri_translation: the oracle lookup scores as its baseline does."""
    from recon.config import build_config
    from recon.plugins import get_task

    paired, unpaired = get_task("mri_translation"), get_task(TASK)
    a = paired.build_dataset(build_config(paired, "smoke"), "test")
    b = unpaired.build_dataset(build_config(unpaired, "smoke"), "test")
    assert len(a) == len(b)
    for i in range(len(a)):
        assert torch.equal(a[i]["input"], b[i]["input"]) and torch.equal(a[i]["target"], b[i]["target"])


def test_eval_reproduces_the_run(cli, smoke_cycle: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = cli("eval", "--checkpoint", smoke_cycle / "checkpoints" / "last.pt", "--json", out)
    assert result.code == 0, result.err
    again, saved = json.loads(out.read_text()), json.loads((smoke_cycle / "eval.json").read_text())
    assert again["metrics"] == pytest.approx(saved["metrics"], rel=1e-5)
    assert [b["name"] for b in again["baselines"]] == [HISTOGRAM, QUANTILE, ORACLE]
    for x, y in zip(again["baselines"], saved["baselines"], strict=True):
        assert x["metrics"] == pytest.approx(y["metrics"], rel=1e-5)


def test_predict_nifti_is_the_a_to_b_generator(cli, smoke_cycle: Path, tmp_path: Path) -> None:
    """``recon predict`` keeps shape and affine and applies G_AB (not G_BA) slice by slice."""
    import nibabel as nib

    from recon.train.inference import load_run
    from recon.plugins import get_task

    affine = np.array([[-1.2, 0, 0, 90.0], [0, 1.1, 0, -120.0], [0, 0, 2.5, -70.0], [0, 0, 0, 1]])
    volume = phantom_volume((30, 26, 7))
    source = write_nifti(tmp_path / "t1.nii.gz", volume, affine)
    output = tmp_path / "t2_synth.nii.gz"
    ckpt = smoke_cycle / "checkpoints" / "last.pt"
    result = cli("predict", "--checkpoint", ckpt, source, "-o", output)
    assert result.code == 0, result.err
    img = nib.load(str(output))
    assert img.shape == (30, 26, 7)
    np.testing.assert_allclose(img.affine, affine, atol=1e-5)
    data = img.get_fdata()
    assert np.isfinite(data).all() and data.min() >= 0 and data.max() <= 1
    _, cfg, state = load_run(ckpt)
    generator = get_task(TASK).setup(cfg, None).generator
    generator.load_state_dict(state["nets"].get("ema", state["nets"]["generator"]))
    generator.eval()
    k = 3  # one axial slice, prepared as training prepares the built-in brain (divided by the max)
    with torch.no_grad():
        x = torch.from_numpy(volume[:, :, k] / volume.max()).float()[None, None]
        ab, ba = generator.g_ab(x)[0, 0].clamp(0, 1).numpy(), generator.g_ba(x)[0, 0].clamp(0, 1).numpy()
    assert np.abs(data[:, :, k] - ab).max() < np.abs(data[:, :, k] - ba).max()


def test_resume_continues_bit_exactly(cli, tmp_path: Path) -> None:
    from recon.train.checkpoint import load_checkpoint

    full, part = tmp_path / "full", tmp_path / "part"
    assert cli("run", "--task", TASK, *SMOKE, "--out", full).code == 0
    assert cli("run", "--task", TASK, *SMOKE, "--out", part, "--set", "trainer.max_steps=3").code == 0
    resumed = cli("run", "--task", TASK, "--resume", "--out", part, "--set", "trainer.max_steps=6")
    assert resumed.code == 0, resumed.err
    a, b = load_checkpoint(full / "checkpoints" / "last.pt"), load_checkpoint(part / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 6
    for name in ("generator", "discriminator", "ema"):
        for key, value in a["nets"][name].items():
            assert torch.equal(value, b["nets"][name][key]), f"{name}.{key}"


def test_cycle_loss_falls_and_both_generators_and_discriminators_train(cli, tmp_path: Path) -> None:
    from recon.train.checkpoint import load_checkpoint

    sets = ["trainer.lr_g=1e-3", "trainer.checkpoint_every=100", "trainer.eval_every=0", "trainer.sample_every=0",
            "eval.max_images=1"]
    args = [a for s in sets for a in ("--set", s)]
    assert cli("run", "--task", TASK, *SMOKE, "--out", tmp_path / "one", *args,
               "--set", "trainer.max_steps=1").code == 0
    assert cli("run", "--task", TASK, *SMOKE, "--out", tmp_path / "many", *args,
               "--set", "trainer.max_steps=40").code == 0
    cycle = [entry["cycle"] for entry in _logs(tmp_path / "many") if "cycle" in entry]
    assert len(cycle) == 40 and np.mean(cycle[-8:]) < 0.5 * np.mean(cycle[:8])
    one = load_checkpoint(tmp_path / "one" / "checkpoints" / "last.pt")["nets"]
    many = load_checkpoint(tmp_path / "many" / "checkpoints" / "last.pt")["nets"]
    for net, prefixes in (("generator", ("g_ab.", "g_ba.")), ("discriminator", ("d_a.", "d_b."))):
        for prefix in prefixes:
            keys = [k for k in one[net] if k.startswith(prefix) and one[net][k].is_floating_point()]
            assert keys and any(not torch.equal(one[net][k], many[net][k]) for k in keys), prefix


@pytest.mark.parametrize(("overrides", "fragment"), [
    (["data.domain_a=/nonexistent/t1"], "data.domain_a is set but data.domain_b is not"),
    (["data.domain_b=/nonexistent/t2"], "data.domain_b is set but data.domain_a is not"),
    (["data.domain_a=/nonexistent/t1", "data.domain_b=/nonexistent/t2"], "data.domain_a=/nonexistent/t1: no such"),
    (["loss.l1=1"], "loss.l1=1.0: unpaired training has no aligned target"),
    (["loss.r1_gamma=1"], "loss.r1_gamma"),
    (["model.g_network=srresnet"], "model.g_network"),
    (["data.target=t1"], "both 't1'"),
    (["data.target=t3"], "data.target: unknown contrast 't3'"),
    (["data.domain_gap=1000"], "too small to cut into two disjoint domains"),
])
def test_bad_settings_exit_2(cli, tmp_path: Path, overrides: list[str], fragment: str) -> None:
    args = [a for o in overrides for a in ("--set", o)]
    assert_clean_failure(cli("run", "--task", TASK, *SMOKE, "--out", tmp_path / "r", *args), fragment)


def test_same_folder_for_both_domains_exit_2(cli, tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    args = ["--set", f"data.domain_a={folder}", "--set", f"data.domain_b={folder}"]
    assert_clean_failure(cli("run", "--task", TASK, *SMOKE, "--out", tmp_path / "r", *args), "the same path")


def test_empty_domain_folder_exit_2(cli, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    args = ["--set", f"data.domain_a={tmp_path / 'a'}", "--set", f"data.domain_b={tmp_path / 'b'}"]
    result = cli("run", "--task", TASK, *SMOKE, "--out", tmp_path / "r", *args)
    assert result.code == 2 and "Traceback" not in result.err, result.err
    assert len([line for line in result.err.strip().splitlines() if line.strip()]) == 1, result.err


def test_the_paired_tasks_vgg_discriminator_is_refused(cli, tmp_path: Path) -> None:
    """``model.d_arch`` comes with the paired task's model section; CycleGAN's two discriminators
    are PatchGANs, so ``vgg`` is refused before any work instead of being ignored."""
    result = cli("run", "--task", TASK, *SMOKE, "--out", tmp_path / "r", "--set", "model.d_arch=vgg")
    assert_clean_failure(result, "model.d_arch=vgg")
    assert not (tmp_path / "r").exists()
