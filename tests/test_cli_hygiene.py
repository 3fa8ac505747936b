"""CLI hygiene: closed pipes, refused comparisons and resumes, config files naming a task and
preset, no run directory left by a refused run, the split sizes, plain progress lines, help
on every argument. Each test checks what a user sees: exit codes, stderr lines, files."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]


def one_error_line(result) -> str:
    assert result.code == 2, (result.code, result.out, result.err)
    lines = [line for line in result.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    assert lines[0].startswith("recon: error: "), lines[0]
    return lines[0]


def _pngs(folder: Path, n: int = 6, size: int = 24) -> Path:
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray((rng.random((size, size)) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


def _copy(run: Path, to: Path) -> Path:
    shutil.copytree(run, to, ignore=shutil.ignore_patterns(".lock"))
    return to


# -- 1. a closed stdout ----------------------------------------------------------------------
def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    """``recon list --json | head -1``: the reader closes the pipe; recon exits without a
    traceback or "internal error" (141 = 128 + SIGPIPE, as Unix tools do)."""
    commands = [["list", "--json"], ["plugins", "--json"], ["config", "--task", "mri_superres"]]
    procs = []
    for args in commands:
        proc = subprocess.Popen([sys.executable, "-m", "recon", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout is not None
        proc.stdout.close()  # the reader is gone before recon writes a byte
        procs.append(proc)
    for args, proc in zip(commands, procs, strict=True):
        _, err = proc.communicate(timeout=120)
        assert err.decode() == "", (args, err.decode())
        assert proc.returncode == 141, (args, proc.returncode)


# -- 2. comparing checkpoints of different tasks ---------------------------------------------
def test_comparing_a_2d_and_a_3d_checkpoint_is_refused_before_any_work(cli, smoke_run: Path, tmp_path: Path) -> None:
    state = torch.load(smoke_run / "checkpoints" / "last.pt", map_location="cpu", weights_only=True)
    state["task"] = "mri_superres_3d"
    volumetric = tmp_path / "3d.pt"
    torch.save(state, volumetric)

    line = one_error_line(cli("eval", "--checkpoint", smoke_run / "checkpoints" / "last.pt",
                              "--compare", volumetric))
    assert "task 'mri_superres_3d', not 'mri_superres'" in line and "3D" in line and "same task" in line

    out = tmp_path / "run"
    result = cli("run", "--task", "mri_superres", *SMOKE, "--out", out,
                 "--set", f"eval.compare_checkpoint={volumetric}")
    line = one_error_line(result)
    assert line.startswith(f"recon: error: eval.compare_checkpoint {volumetric}: a checkpoint of task "
                           "'mri_superres_3d'")
    assert not out.exists() and result.out == ""  # refused before training


# -- 3. --resume refuses options that would change the run; a finished run is not retrained ----
def test_resume_refuses_changes_and_reports_a_finished_run(cli, smoke_run: Path, tmp_path: Path) -> None:
    run = _copy(smoke_run, tmp_path / "run")
    last = run / "checkpoints" / "last.pt"
    before = last.read_bytes()
    config = tmp_path / "longer.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"max_steps": 9}}))
    other_data = _pngs(tmp_path / "pngs")
    base = ["run", "--task", "mri_superres", "--resume", "--out", run]
    for extra, fragment in [(["--preset", "default"], "--preset default with --resume"),
                            (["--seed", "5"], "--seed 5 with --resume"),
                            (["--data", other_data], f"--data {other_data} with --resume"),
                            (["--config", config], "would change trainer.max_steps")]:
        assert fragment in one_error_line(cli(*base, *extra)), extra

    done = cli(*base, "--preset", "smoke", "--seed", "0", "--set", "trainer.progress=false")
    assert done.code == 0, done.err
    assert "run already complete (step 6 of 6)" in done.out and "--set trainer.max_steps=" in done.out
    assert "on the test split" not in done.out  # no evaluation either
    assert last.read_bytes() == before
    steps = [yaml.safe_load(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [yaml.safe_load(line)["step"]
                     for line in (smoke_run / "metrics.jsonl").read_text().splitlines()]


# -- 4. a --config file's task: and preset: ---------------------------------------------------
def test_config_file_task_and_preset(cli, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"task": "mri_superres", "preset": "smoke", "seed": 2}))

    shown = cli("config", "--task", "mri_superres", "--config", config)
    assert shown.code == 0, shown.err
    resolved = yaml.safe_load(shown.out)
    assert resolved["preset"] == "smoke" and resolved["trainer"]["max_steps"] == 6 and resolved["seed"] == 2

    line = one_error_line(cli("config", "--task", "mri_motion", "--config", config))
    assert "task: mri_superres differs from --task mri_motion" in line
    line = one_error_line(cli("config", "--task", "mri_superres", "--preset", "paper", "--config", config))
    assert "preset: smoke differs from --preset paper" in line
    out = tmp_path / "run"
    line = one_error_line(cli("run", "--task", "mri_motion", "--config", config, "--out", out))
    assert "differs from --task" in line and not out.exists()


# -- 5. a refused run leaves no run directory --------------------------------------------------
def test_a_run_refused_in_preflight_leaves_no_run_directory(cli, tmp_path: Path) -> None:
    data = _pngs(tmp_path / "small")  # 24x24 images: smaller than one 64-px patch
    refused = ["run", "--task", "mri_superres", *SMOKE, "--data", data,
               "--set", "data.patch_size=64", "--set", "data.min_foreground=0"]
    line = one_error_line(cli(*refused, "--out", tmp_path / "new" / "run"))
    assert "smaller than one patch" in line
    assert not (tmp_path / "new").exists()  # neither the run directory nor the parent it made

    existing = tmp_path / "mine"
    existing.mkdir()
    (existing / "keep.txt").write_text("keep me")
    one_error_line(cli(*refused, "--out", existing))
    assert (existing / "keep.txt").read_text() == "keep me"  # a directory that existed is never removed


# -- 6 and 7: the split sizes and plain progress lines -----------------------------------------
@pytest.fixture(scope="module")
def short_run_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str]:
    """A 4-step run with the default ``trainer.progress=true``, stdout and stderr not terminals."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("short") / "run"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["run", "--task", "mri_superres", "--preset", "smoke", "--out", str(out),
                     "--set", "trainer.max_steps=4", "--set", "trainer.log_every=2", "--set", "trainer.eval_every=0",
                     "--set", "trainer.sample_every=0", "--set", "eval.st_lpips=false"])
    return code, stdout.getvalue(), stderr.getvalue()


def test_the_run_prints_its_split_sizes(short_run_output: tuple[int, str, str]) -> None:
    code, out, err = short_run_output
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith("data: ")]
    assert len(lines) == 1
    assert re.fullmatch(r"data: train \d+ slices from 1 volume, val \d+, test \d+", lines[0]), lines[0]
    assert out.splitlines()[0] == lines[0]  # before the first step


def test_progress_is_plain_lines_when_not_on_a_terminal(short_run_output: tuple[int, str, str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = short_run_output
    assert code == 0, err
    steps = [line for line in out.splitlines() if line.startswith("step ")]
    assert [line.split()[1] for line in steps] == ["2/4", "4/4"]  # every trainer.log_every steps
    for line in steps:
        assert "g_loss" in line and "img/s" in line and "elapsed 0:00:" in line and " eta " in line, line
    assert "\r" not in out + err

    from recon.train.logger import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for bar, expect_bar in [(True, True), (False, False)]:  # trainer.progress on a terminal
        stdout, stderr = Terminal(), Terminal()
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "stderr", stderr)
        progress = Progress(4, 0, enabled=True, desc="t", bar=bar)
        for step in (1, 2):
            progress.update(1, {})
            progress.log(step, {"g_loss": 0.5, "img_per_s": 10.0})
        progress.close()
        monkeypatch.undo()
        assert ("\r" in stderr.getvalue()) is expect_bar
        assert (stdout.getvalue().count("step ") == 2) is not expect_bar


# -- 8. help on every argument -----------------------------------------------------------------
def _arguments_without_help(commands: set[str] | None = None) -> list[str]:
    from recon.cli.main import build_parser

    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if commands is None or name in commands:
                        walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "recon")
    return missing


def test_every_argument_of_run_config_list_plugins_has_help() -> None:
    assert _arguments_without_help({"run", "config", "list", "plugins"}) == []


def test_every_argument_of_every_command_has_help() -> None:
    assert _arguments_without_help() == []
