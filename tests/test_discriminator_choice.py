"""``model.d_arch``: the pix2pix PatchGAN (default) or SRGAN's VGG-style classifier, for the
tasks whose default is a PatchGAN (motion, k-space, translation)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from recon.config import build_config
from recon.plugins import get_task


@pytest.mark.parametrize("task_name", ["mri_motion", "mri_kspace", "mri_translation"])
def test_vgg_discriminator_gives_one_logit_per_image(task_name: str) -> None:
    task = get_task(task_name)
    patch = build_config(task, "smoke")
    vgg = build_config(task, "smoke", overrides=["model.d_arch=vgg", "model.d_fc=16"])
    d_patch = task.setup(patch, None).discriminator
    d_vgg = task.setup(vgg, None).discriminator
    assert type(d_patch).__name__ == "PatchGANDiscriminator" and type(d_vgg).__name__ == "VGGStyleDiscriminator"
    channels = next(m for m in d_vgg.modules() if isinstance(m, torch.nn.Conv2d)).in_channels
    logits = d_vgg(torch.rand(2, channels, 64, 64))
    assert logits.shape == (2, 1)


def test_a_run_trains_against_the_vgg_discriminator(cli, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli("run", "--task", "mri_motion", "--preset", "smoke", "--out", out, "--set", "trainer.progress=false",
                 "--set", "trainer.eval_every=0", "--set", "model.d_arch=vgg")
    assert result.code == 0, result.err
    assert any("d_loss" in json.loads(line) for line in (out / "metrics.jsonl").open())
    result = cli("run", "--task", "mri_motion", "--preset", "smoke", "--out", tmp_path / "bad",
                 "--set", "model.d_arch=resnet")
    assert result.code == 2 and "model.d_arch" in result.err
