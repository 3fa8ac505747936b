"""Ranges declared on config fields (recon.api.ranged), checked once for core and task sections."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from recon.api import ConfigError, DataConfig, ModelConfig, ranged
from recon.config_ranges import check_ranges, range_of


@dataclass
class _Model(ModelConfig):
    channels: int = ranged(32, ge=1)
    dropout: float = ranged(0.0, ge=0, lt=1)


@dataclass
class _Data(DataConfig):
    patch_size: int = 48  # a new default only: core's range (>= 0) still holds


def test_a_redeclared_default_keeps_the_base_range() -> None:
    assert range_of(_Data, "patch_size") == range_of(DataConfig, "patch_size")
    with pytest.raises(ConfigError, match=r"data.patch_size=-1 is out of range \(must be >= 0\)"):
        check_ranges({"data": _Data(patch_size=-1)})


@pytest.mark.parametrize("field, value, message", [
    ("channels", 0, r"model.channels=0 is out of range \(must be >= 1\)"),
    ("dropout", 1.0, r"model.dropout=1.0 is out of range \(must be >= 0 and < 1\)"),
    ("dropout", math.nan, r"model.dropout=nan is out of range"),
])
def test_a_task_section_declares_its_ranges(field: str, value: float, message: str) -> None:
    check_ranges({"model": _Model()})
    with pytest.raises(ConfigError, match=message):
        check_ranges({"model": _Model(**{field: value})})


def test_ranged_refuses_two_bounds_on_one_side() -> None:
    with pytest.raises(ValueError, match="not both"):
        ranged(1, ge=0, gt=0)


def test_a_plugin_range_reaches_the_cli(cli, tmp_path) -> None:
    """mri_kspace declares mask.acceleration >= 1 on its field; `recon config` refuses 0.5."""
    result = cli("config", "--task", "mri_kspace", "--preset", "smoke", "--set", "mask.acceleration=0.5")
    assert result.code == 2
    assert "mask.acceleration=0.5 is out of range (must be >= 1" in result.err


def test_every_override_path_checks_the_declared_range() -> None:
    """``RunConfig.set`` (``--set`` of run, eval, predict, generate, config; presets; YAML) refuses
    a value outside the field's range at once, for core and task sections alike."""
    from recon.config import build_config
    from recon.plugins import get_task

    cfg = build_config(get_task("mri_motion"), "smoke")
    with pytest.raises(ConfigError, match=r"motion.max_rotation=200.0 is out of range \(must be >= 0 and <= 180\)"):
        cfg.apply_overrides(["motion.max_rotation=200"])
    with pytest.raises(ConfigError, match=r"trainer.lr_g=0.0 is out of range \(must be > 0\)"):
        cfg.apply_overrides(["trainer.lr_g=0"])
    cfg.apply_overrides(["motion.max_rotation=180"])
    assert cfg.motion.max_rotation == 180


@pytest.mark.parametrize("task, setting, message", [
    ("mri_translation", "model.num_downs=11", "model.num_downs=11 is out of range (must be >= 2 and <= 10)"),
    ("mri_translation", "data.rician_noise=-0.1", "data.rician_noise=-0.1 is out of range (must be >= 0"),
    ("inpainting", "mask.size=1.5", "mask.size=1.5 is out of range (must be > 0 and <= 1)"),
    ("mri_motion", "motion.center_fraction=1", "motion.center_fraction=1.0 is out of range (must be >= 0 and < 1)"),
])
def test_plugin_ranges_are_declared_on_their_fields(cli, task: str, setting: str, message: str) -> None:
    result = cli("config", "--task", task, "--preset", "smoke", "--set", setting)
    assert result.code == 2 and message in result.err
