"""``--suite a,b`` lists and ``--append`` (``python -m benchmarks``), without training.

The child ``recon run`` processes and the speed/scaling measurements are replaced by stand-ins
that write an ``eval.json`` (or a record) whose numbers say which invocation produced them, so
the suites, the merge and the README run for real in seconds. The real smoke runs are in
tests/test_benchmarks.py and tests/test_benchmarks_tradeoff.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


@dataclass
class StandIn:
    """What the stand-ins do: ``gen`` tags every number, ``fail`` holds (label, run name) pairs."""

    gen: int = 1
    fail: set[tuple[str, str]] = field(default_factory=set)
    calls: list[tuple[str, str, float | None]] = field(default_factory=list)
    speed_figures: bool = True


def _train_run(state: StandIn):  # noqa: ANN202
    from benchmarks.proc import ChildResult

    def fake(task: str, spec: Any, preset: str, run_dir: Path, device: str, extra: list[str],
             timeout_s: float) -> tuple[dict[str, Any], ChildResult]:
        weights = [float(e.split("=", 1)[1]) for e in extra if e.startswith("loss.adversarial=")]
        state.calls.append((spec.label, run_dir.name, weights[0] if weights else None))
        run_dir.mkdir(parents=True, exist_ok=True)
        log = run_dir.parent / f"{run_dir.name}.log"
        code = 1 if (spec.label, run_dir.name) in state.fail else 0
        log.write_text("stand-in failed\n" if code else "stand-in\n")
        if not code:
            (run_dir / "checkpoints").mkdir(exist_ok=True)
            (run_dir / "checkpoints" / "last.pt").write_bytes(b"")
            base = {"name": "bicubic", "metrics": {"psnr": 28.0, "ssim": 0.8, "st_lpips": 0.4}}
            (run_dir / "eval.json").write_text(json.dumps({
                "split": "test", "n_images": 4, "conventions": {"name": "stand-in"}, "baseline": base,
                "metrics": {"psnr": 30.0 + state.gen, "ssim": 0.9, "st_lpips": 0.3 - (weights or [0])[0]},
                "baselines": [base]}))
        run = {"name": run_dir.name, "run_dir": str(run_dir), "command": "recon run " + " ".join(extra),
               "returncode": code, "timed_out": False, "wall_s": 1.5, "peak_rss_mb": 500.0, "steps": 6}
        return run, ChildResult(returncode=code, wall_s=1.5, peak_rss_mb=500.0, log=log)
    return fake


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> StandIn:
    import benchmarks.figures as figures
    import benchmarks.quality as quality
    import benchmarks.runs as runs
    import benchmarks.scaling as scaling
    import benchmarks.speed as speed
    import benchmarks.tradeoff as tradeoff

    state = StandIn()
    monkeypatch.setattr(quality, "train_run", _train_run(state))
    monkeypatch.setattr(runs, "train_run", _train_run(state))  # the comparison runs
    monkeypatch.setattr(tradeoff, "train_run", _train_run(state))
    monkeypatch.setattr(speed, "run_speed", lambda tasks, **_: [
        {"task": t, "status": "skipped", "reason": f"stand-in {state.gen}"} for t in tasks])
    monkeypatch.setattr(scaling, "run_scaling", lambda task, out, **_: {
        "task": task, "preset": "smoke", "status": "skipped", "points": [], "reason": f"stand-in {state.gen}"})

    def figure(_: Any, path: Path, machine: dict[str, Any]) -> str | None:
        if not state.speed_figures:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"stand-in")
        return path.name
    monkeypatch.setattr(figures, "speed_figure", figure)
    monkeypatch.setattr(figures, "scaling_figure", figure)
    return state


def _results(out: Path) -> dict[str, Any]:
    from benchmarks.suite import validate

    results = json.loads((out / "results.json").read_text())
    assert validate(results) == []
    return results


# -- --suite lists ----------------------------------------------------------------------------
def test_suite_lists_run_in_canonical_order() -> None:
    from benchmarks.suite import parse_suites, suite_name

    assert parse_suites("tradeoff,quality") == ["quality", "tradeoff"]
    assert parse_suites(" speed , quality ") == ["quality", "speed"]
    assert parse_suites("all") == parse_suites("speed,all") == ["quality", "tradeoff", "speed"]
    assert suite_name(parse_suites("speed,tradeoff,quality")) == "all"
    assert suite_name(parse_suites("tradeoff,quality,tradeoff")) == "quality,tradeoff"
    assert suite_name(["speed"]) == "speed"


@pytest.mark.parametrize("suite", ["quality,sped", "qualty", ",", "all,foo"])
def test_unknown_suite_is_a_one_line_usage_error(suite: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from benchmarks.__main__ import main

    assert main(["--suite", suite, "--smoke", "--tasks", "mri_superres", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--suite" in err and "quality, tradeoff, speed, all" in err
    if suite == "quality,sped":
        assert "unknown suite 'sped'" in err and "did you mean 'speed'" in err
    assert not (tmp_path / "o").exists()


def test_quality_tradeoff_reuses_the_quality_runs(stand_in: StandIn, tmp_path: Path) -> None:
    from benchmarks.__main__ import main

    out = tmp_path / "out"
    assert main(["--suite", "tradeoff,quality", "--smoke", "--tasks", "mri_superres", "--out", str(out)]) == 0
    results = _results(out)
    assert results["suite"] == "quality,tradeoff" and "speed" not in results and "scaling" not in results
    (record,) = results["tradeoff"]
    default = record["default_weight"]
    # quality first (twin, then the adversarial model), then only the sweep's other weights
    assert stand_in.calls[:2] == [("mri_superres", "non_adversarial", 0.0), ("mri_superres", "adversarial", None)]
    assert [w for _, _, w in stand_in.calls[2:]] == [w for w in record["weights"] if w not in (0.0, default)]
    assert [p["weight"] for p in record["points"] if p["reused"]] == [0.0, default]
    assert results["figures"] == ["mri_superres_metrics.png", "mri_superres_tradeoff.png"]
    (command,) = results["commands"]
    assert command["command"] == results["command"] and command["suite"] == "quality,tradeoff"


# -- --append ---------------------------------------------------------------------------------
def test_append_without_out_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    from benchmarks.__main__ import main
    from benchmarks.suite import RESULTS_ROOT

    before = sorted(RESULTS_ROOT.iterdir())
    assert main(["--suite", "quality", "--smoke", "--tasks", "mri_superres", "--append"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--append needs --out" in err
    assert sorted(RESULTS_ROOT.iterdir()) == before


def test_append_merges_runs_into_one_results_dir(stand_in: StandIn, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    from benchmarks.__main__ import main

    out = tmp_path / "out"
    first = ["--suite", "quality,speed", "--smoke", "--tasks", "mri_superres,srgan", "--out", str(out)]
    assert main(first) == 0
    assert _results(out)["figures"] == ["mri_superres_metrics.png", "srgan_metrics.png", "speed.png", "scaling.png"]

    # 2: srgan's quality again (replaced in place) and its sweep (new); speed kept
    stand_in.gen = 2
    second = ["--suite", "tradeoff,quality", "--smoke", "--tasks", "srgan", "--out", str(out), "--append"]
    assert main(second) == 0
    results = _results(out)
    assert [(r["label"], r["metrics"]["recon (adversarial)"]["psnr"]) for r in results["quality"]] == [
        ("mri_superres", 31.0), ("srgan", 32.0)]
    assert [r["label"] for r in results["tradeoff"]] == ["srgan"]
    assert sum(p["reused"] for p in results["tradeoff"][0]["points"]) == 2  # this invocation's quality runs
    assert results["speed"][0]["reason"] == "stand-in 1" and results["scaling"]["reason"] == "stand-in 1"
    assert results["tasks"] == ["mri_superres", "srgan"] and results["suite"] == "all"
    assert [c["suite"] for c in results["commands"]] == ["quality,speed", "quality,tradeoff"]
    assert results["command"] == results["commands"][-1]["command"] == "python -m benchmarks " + " ".join(second)
    assert results["created"] == results["commands"][-1]["created"]
    assert results["wall_s"] == pytest.approx(sum(c["wall_s"] for c in results["commands"]), abs=0.02)
    assert results["figures"] == ["mri_superres_metrics.png", "srgan_metrics.png", "speed.png", "scaling.png",
                                  "srgan_tradeoff.png"]
    markdown = (out / "results.md").read_text()
    assert "Merged from 2 commands" in markdown and "### srgan" in markdown
    assert "| mri_superres | **recon (adversarial)** | 31.00 |" in markdown
    assert "| srgan | **recon (adversarial)** | 32.00 |" in markdown

    # 3: srgan's quality fails this time, speed again without figures: stale figures go
    stand_in.gen, stand_in.fail, stand_in.speed_figures = 3, {("srgan", "adversarial")}, False
    capsys.readouterr()
    third = ["--suite", "speed,quality", "--smoke", "--tasks", "srgan", "--out", str(out), "--append"]
    assert main(third) == 1
    captured = capsys.readouterr()
    assert "1 failure(s): quality:srgan" in captured.err  # this invocation's failures only
    assert "the kept tradeoff record of srgan reused quality runs" in captured.out
    results = _results(out)
    assert [(r["label"], r["status"]) for r in results["quality"]] == [("mri_superres", "ok"), ("srgan", "failed")]
    assert [r["label"] for r in results["tradeoff"]] == ["srgan"]  # not re-run: kept
    assert results["speed"] == [{"task": "srgan", "status": "skipped", "reason": "stand-in 3"}]
    assert results["scaling"]["reason"] == "stand-in 3"
    assert results["figures"] == ["mri_superres_metrics.png", "srgan_tradeoff.png"]
    figures = {p.name for p in (out / "figures").iterdir()}
    assert figures == {"mri_superres_metrics.png", "srgan_tradeoff.png"}
    assert len(results["commands"]) == 3 and results["commands"][0]["command"].endswith("--out " + str(out))
    assert "*failed*" in (out / "results.md").read_text()

    # the README line names every command, in order
    readme = tmp_path / "README.md"
    readme.write_text("# T\n<!-- results:start -->\n<!-- results:end -->\n")
    assert main(["--update-readme", str(out), "--readme", str(readme)]) == 0
    (line,) = [ln for ln in readme.read_text().splitlines() if ln.startswith("**Results**")]
    listed = ", then ".join(f"`python -m benchmarks {' '.join(argv)}`" for argv in (first, second, third))
    assert f"3 commands: {listed}, " in line and "| mri_superres | **recon (adversarial)** |" in readme.read_text()

    # smoke and full results are not merged
    before = (out / "results.json").read_text()
    assert main(["--suite", "quality", "--tasks", "srgan", "--out", str(out), "--append"]) == 2
    assert "holds smoke results and this is a full run" in capsys.readouterr().err
    assert (out / "results.json").read_text() == before


def test_append_to_a_file_that_predates_commands_keeps_it_valid() -> None:
    from benchmarks.append import merge_results
    from benchmarks.report import provenance
    from benchmarks.suite import validate

    old = json.loads((REPO / "benchmarks" / "results" / "2026-11-26-rerun" / "results.json").read_text())
    assert "commands" not in old and validate(old) == []
    kept = [r["label"] for r in old["quality"] if r["label"] != "srgan"]
    new = {**{k: old[k] for k in ("schema_version", "smoke", "machine")}, "created": "2027-01-01T00:00:00",
           "command": "python -m benchmarks --suite quality --tasks srgan --append", "suite": "quality",
           "tasks": ["srgan"], "figures": [], "wall_s": 60.0,
           "quality": [{"label": "srgan", "task": "srgan", "plugin": "superres", "status": "failed",
                        "reason": "stand-in", "runs": [], "figures": []}]}
    new["commands"] = [{k: new[k] for k in ("command", "created", "wall_s", "machine", "suite")}]
    merged, stale = merge_results(old, new, ["quality"], log=lambda _: None)
    assert validate(merged) == []
    assert [c["command"] for c in merged["commands"]] == [old["command"], new["command"]]
    assert [r["label"] for r in merged["quality"]] == [r["label"] for r in old["quality"]]
    assert [r["label"] for r in merged["quality"] if r["status"] == "ok"] == kept
    assert "srgan_metrics.png" in stale and "srgan_samples_adversarial.png" in stale
    assert not any(n.startswith("srgan_") for n in merged["figures"]) and merged["wall_s"] == old["wall_s"] + 60
    assert provenance(merged).startswith(f"2026-11-26 to 2027-01-01, 2 commands: `{old['command']}`, then ")
    merged["commands"][1]["machine"] = {**old["machine"], "cpu": "Other CPU"}  # listed per command when they differ
    assert f"`{new['command']}` (Other CPU, " in provenance(merged)


def test_committed_results_stay_valid() -> None:
    from benchmarks.suite import validate

    paths = sorted((REPO / "benchmarks" / "results").glob("*/results.json"))
    assert paths
    for path in paths:
        assert validate(json.loads(path.read_text())) == [], path
