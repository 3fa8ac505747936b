"""``loss.perceptual`` (ST-LPIPS, offline weights) in every paired task: it trains, it is
logged, the evaluation adds the other network's score, and it is refused where it cannot work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PAIRED = ["mri_superres", "srgan", "mri_kspace", "mri_motion", "inpainting", "mri_translation"]


def _run(cli, out: Path, task: str, *sets: str):
    args = ["run", "--task", task, "--preset", "smoke", "--out", out, "--set", "trainer.progress=false",
            "--set", "trainer.max_steps=3", "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0"]
    for item in sets:
        args += ["--set", item]
    return cli(*args)


@pytest.mark.parametrize("task", PAIRED)
def test_perceptual_loss_trains_and_the_other_net_judges(cli, tmp_path: Path, task: str) -> None:
    result = _run(cli, tmp_path / "run", task, "loss.perceptual=0.5")
    assert result.code == 0, result.err
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    terms = [r["perceptual"] for r in logged if "perceptual" in r]
    assert terms and all(t > 0 for t in terms)
    evaluation = json.loads((tmp_path / "run" / "eval.json").read_text())
    # trained on the AlexNet ST-LPIPS: the VGG one is reported beside it
    assert {"st_lpips", "st_lpips_vgg"} <= set(evaluation["metrics"])
    assert "vgg trunk" in evaluation["conventions"]["st_lpips_vgg"]


def test_vgg_perceptual_loss_is_judged_by_alex_only(cli, tmp_path: Path) -> None:
    result = _run(cli, tmp_path / "run", "srgan", "loss.perceptual=0.5", "loss.perceptual_net=vgg")
    assert result.code == 0, result.err
    evaluation = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert "st_lpips" in evaluation["metrics"] and "st_lpips_vgg" not in evaluation["metrics"]
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "perceptual_net: vgg" in config


@pytest.mark.parametrize("task, sets, message", [
    ("mri_superres", ["loss.perceptual_net=squeeze"], "loss.perceptual_net: 'squeeze' is not one of alex, vgg"),
    ("mri_superres", ["loss.perceptual=-1"], "loss.perceptual=-1.0 is out of range"),
    ("mri_superres_3d", ["loss.perceptual=0.1", "data.patch_size=16", "data.degradation=blur"],
     "loss.perceptual (ST-LPIPS, a 2D image network) is not defined for volumes"),
])
def test_perceptual_settings_that_cannot_work_are_refused(cli, tmp_path: Path, task: str, sets: list[str],
                                                          message: str) -> None:
    result = _run(cli, tmp_path / "run", task, *sets)
    assert result.code == 2 and message in result.err, result.err
    assert "Traceback" not in result.err


def test_stylegan2_refuses_a_perceptual_loss(cli, tmp_path: Path) -> None:
    result = _run(cli, tmp_path / "run", "stylegan2", "loss.perceptual=0.1")
    assert result.code == 2 and "loss.perceptual" in result.err
