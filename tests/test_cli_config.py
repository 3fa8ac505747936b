"""`recon config`: the resolved config a run would use, printed as YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recon.cli.main import main


def test_prints_the_resolved_config_and_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--task", "mri_superres", "--preset", "smoke", "--set", "trainer.max_steps=7",
                 "--seed", "3"]) == 0
    text = capsys.readouterr().out
    data = yaml.safe_load(text)
    assert data["task"] == "mri_superres" and data["preset"] == "smoke" and data["seed"] == 3
    assert data["trainer"]["max_steps"] == 7
    assert data["data"]["scale"] == 4  # the task's own section is resolved too
    saved = tmp_path / "resolved.yaml"
    saved.write_text(text)
    assert main(["config", "--task", "mri_superres", "--preset", "smoke", "--config", str(saved),
                 "--seed", "3"]) == 0
    assert capsys.readouterr().out == text


@pytest.mark.parametrize("argv, message", [
    (["config", "--task", "nope"], "unknown task 'nope'"),
    (["config", "--task", "mri_superres", "--set", "trainer.bogus=1"], "unknown config key 'trainer.bogus'"),
    (["config", "--task", "mri_superres", "--set", "trainer.max_steps=-1"], "trainer.max_steps"),
])
def test_refuses_bad_requests_in_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
