"""Typed config: presets, YAML files, --set overrides, unknown keys with the closest match."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recon.config import build_config
from recon.errors import ConfigError
from recon.plugins import get_task


@pytest.fixture
def task():
    return get_task("mri_superres")


def test_preset_then_overrides(task) -> None:
    cfg = build_config(task, "smoke", overrides=["trainer.max_steps=11", "loss.adversarial=0",
                                                 "trainer.betas=[0.5, 0.9]", "loss.gan_type=hinge"])
    assert cfg.trainer.max_steps == 11
    assert cfg.loss.adversarial == 0.0 and isinstance(cfg.loss.adversarial, float)
    assert cfg.trainer.betas == (0.5, 0.9)
    assert cfg.loss.gan_type == "hinge"
    assert cfg.model.channels == 8  # from the smoke preset


def test_scientific_notation_is_a_number(task) -> None:
    cfg = build_config(task, "smoke", overrides=["trainer.lr_g=1e-3"])
    assert cfg.trainer.lr_g == pytest.approx(1e-3)


def test_unknown_key_names_the_closest_match(task) -> None:
    with pytest.raises(ConfigError) as info:
        build_config(task, "smoke", overrides=["trainer.max_step=5"])
    message = str(info.value)
    assert "trainer.max_step" in message and "did you mean 'trainer.max_steps'" in message
    assert "trainer.batch_size" in message  # the valid keys are listed


def test_unknown_section(task) -> None:
    with pytest.raises(ConfigError, match="unknown config key 'trainr.max_steps'"):
        build_config(task, "smoke", overrides=["trainr.max_steps=5"])


@pytest.mark.parametrize("override, fragment", [
    ("trainer.max_steps=abc", "expected an integer"),
    ("trainer.compile=maybe", "expected true or false"),
    ("trainer.precision=fp8", "not one of fp32, bf16, fp16"),
    ("trainer.betas=[0.9]", "expected 2 values"),
    ("trainer.max_steps", "expects key=value"),
])
def test_wrong_values(task, override: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        build_config(task, "smoke", overrides=[override])


def test_unknown_preset(task) -> None:
    with pytest.raises(ConfigError, match="did you mean 'smoke'"):
        build_config(task, "smok")


def test_yaml_file_round_trip(task, tmp_path: Path) -> None:
    cfg = build_config(task, "smoke", overrides=["trainer.max_steps=7"], seed=3)
    path = tmp_path / "config.yaml"
    path.write_text(cfg.to_yaml())
    again = build_config(task, "default", config_file=path)
    assert again.trainer.max_steps == 7 and again.seed == 3
    assert again.to_dict() | {"preset": "smoke"} == cfg.to_dict()


def test_yaml_file_with_unknown_key(task, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"trainer": {"max_stepz": 3}}))
    with pytest.raises(ConfigError, match="did you mean 'trainer.max_steps'"):
        build_config(task, "smoke", config_file=path)


def test_registered_names_are_strings_checked_later(task) -> None:
    """loss.gan_type / model.g_network / eval.metrics are plain strings in the config (a plugin's
    names are checked against the registries before the run, see tests/test_registries.py)."""
    cfg = build_config(task, "smoke", overrides=["loss.gan_type=my_loss", "model.g_network=my_net",
                                                 "eval.metrics=[a, b]"])
    assert (cfg.loss.gan_type, cfg.model.g_network, cfg.model.d_network) == ("my_loss", "my_net", "")
    assert cfg.eval.metrics == ["a", "b"]
    assert build_config(task, "smoke", overrides=["eval.metrics=a"]).eval.metrics == ["a"]
    assert build_config(task, "smoke", overrides=["eval.metrics="]).eval.metrics == []
    with pytest.raises(ConfigError, match="loss.gan_type: expected a string"):
        build_config(task, "smoke", overrides=["loss.gan_type=[ns]"])


def test_a_task_changes_the_default_of_a_core_key_not_its_type() -> None:
    """mri_kspace and stylegan2 redeclare loss.gan_type (other defaults): core's type holds, so
    a registered loss is selectable there too."""
    for name, default in (("mri_kspace", "lsgan"), ("stylegan2", "ns")):
        task = get_task(name)
        assert build_config(task, "smoke").loss.gan_type == default
        assert build_config(task, "smoke", overrides=["loss.gan_type=my_loss"]).loss.gan_type == "my_loss"
