"""TensorBoard holds what a run shows: scalars, the sample grids as images, and the config
beside the final test metrics (HParams)."""

from __future__ import annotations

from pathlib import Path


def test_tensorboard_has_scalars_sample_images_and_hparams(cli, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    result = cli("run", "--task", "mri_superres", "--preset", "smoke", "--set", "trainer.progress=false",
                 "--out", out)
    assert result.code == 0, result.err
    events = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0})
    events.Reload()
    tags = events.Tags()
    assert "g_loss" in tags["scalars"] and "test/psnr" in tags["scalars"]
    assert "samples" in tags["images"]
    steps = [image.step for image in events.Images("samples")]
    assert steps == [3, 6]  # the grids of samples/step_0000003.png and step_0000006.png
    hparams = EventAccumulator(str(out / "tensorboard" / "hparams"))
    hparams.Reload()
    content = hparams.PluginTagToContent("hparams")
    assert "_hparams_/session_start_info" in content
    start = content["_hparams_/session_start_info"]
    assert b"loss.adversarial" in start and b"trainer.max_steps" in start
