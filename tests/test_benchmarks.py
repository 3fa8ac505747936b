"""The benchmark suite (``python -m benchmarks``) in its ``--smoke`` mode.

One smoke run of every suite on ``mri_superres`` is shared by the tests (about two minutes on
2 cores; the tradeoff sweep reuses the quality runs and trains two more weights). Speed
ratios are computed and checked for consistency, never asserted against their targets:
timing belongs to benchmarks/, not to tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from recon import hookimpl
from recon.task import Task

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "benchmarks" / "schema.json"


@pytest.fixture(scope="session")
def smoke_suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """``python -m benchmarks --suite all --smoke --tasks mri_superres --out DIR``, run once."""
    out = tmp_path_factory.mktemp("bench") / "out"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--suite", "all", "--smoke", "--tasks", "mri_superres",
                           "--out", str(out)], capture_output=True, text=True, cwd=REPO, timeout=900)
    return out, proc


@pytest.fixture(scope="session")
def results(smoke_suite: tuple[Path, subprocess.CompletedProcess]) -> dict:
    out, proc = smoke_suite
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def test_smoke_results_validate_against_the_schema(results: dict) -> None:
    import jsonschema

    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(results)
    assert results["smoke"] is True and results["suite"] == "all"
    assert results["tasks"] == ["mri_superres"]
    (command,) = results["commands"]  # one invocation (--append adds more)
    assert command["command"] == results["command"] and command["suite"] == "all"
    assert command["created"] == results["created"] and command["wall_s"] == results["wall_s"]


def test_schema_rejects_results_without_machine_or_ratios(results: dict) -> None:
    from benchmarks.suite import validate

    broken = json.loads(json.dumps(results))
    del broken["machine"]
    del broken["speed"][0]["trainer"]["ratio_plain"]
    errors = validate(broken)
    assert any("machine" in e for e in errors) and any("ratio_plain" in e for e in errors)


def test_tables_are_printed_and_written(smoke_suite: tuple[Path, subprocess.CompletedProcess], results: dict) -> None:
    out, proc = smoke_suite
    markdown = (out / "results.md").read_text()
    for text in (markdown, proc.stdout):
        assert "## Quality" in text and "## Speed" in text and "## Scaling" in text
        default = results["tradeoff"][0]["default_weight"]
        assert "## Perception–distortion trade-off" in text and f"| **{default:g} (default, reused)** |" in text
        assert "| mri_superres | **recon (adversarial)** |" in text
        assert "| bicubic |" in text and "| non-adversarial |" in text


def test_quality_reports_the_runs_eval_json_beside_baselines(results: dict) -> None:
    (record,) = results["quality"]  # --tasks mri_superres: that label, not mri_superres_no_augment
    assert record["status"] == "ok" and record["adversarial"] is True
    assert record["preset"] == "smoke" and record["seed"] == 0
    assert [r["name"] for r in record["runs"]] == ["non_adversarial", "adversarial"]
    adversarial = Path(record["runs"][1]["run_dir"])
    evaluation = json.loads((adversarial / "eval.json").read_text())
    assert record["metrics"]["recon (adversarial)"] == evaluation["metrics"]
    names = [b["name"] for b in evaluation["baselines"]]
    assert names == ["bicubic", "non-adversarial"] and record["methods"][1:] == names
    assert record["conventions"]["name"] == "fastmri"
    # the non-adversarial run really trained without the adversarial term
    non_adv = [json.loads(line) for line in (Path(record["runs"][0]["run_dir"]) / "metrics.jsonl").open()]
    assert not any("g_adv" in row for row in non_adv)
    assert any("g_adv" in row for row in map(json.loads, (adversarial / "metrics.jsonl").open()))
    for run in record["runs"]:
        assert run["returncode"] == 0 and run["steps"] == 6
        assert 100 < run["peak_rss_mb"] < 24 * 1024  # a torch process, measured per child
        assert run["wall_s"] > 0


def test_tradeoff_reuses_the_quality_runs_and_trains_only_the_other_weights(results: dict) -> None:
    from benchmarks.tradeoff import weight_value

    (quality,) = results["quality"]
    (record,) = results["tradeoff"]
    assert record["status"] == "ok" and record["preset"] == "smoke" and record["reduced"] is False
    assert record["steps"] == 6  # the smoke preset's, like the quality runs
    default = record["default_weight"]  # the smoke preset's weight, one of the declared points
    points = {p["weight"]: p for p in record["points"]}
    assert list(points) == record["weights"] and len(points) >= 4 and default > 0 and default in points
    assert [w for w, p in points.items() if p["reused"]] == [0.0, default]
    assert [w for w, p in points.items() if p["default"]] == [default]
    twin_run, adv_run = quality["runs"]
    assert points[0.0]["run_dir"] == twin_run["run_dir"] and points[default]["run_dir"] == adv_run["run_dir"]
    twin_eval = json.loads((Path(twin_run["run_dir"]) / "eval.json").read_text())
    assert points[0.0]["metrics"] == twin_eval["metrics"]  # the twin's own eval.json
    assert points[default]["metrics"] == quality["metrics"]["recon (adversarial)"]
    trained = [w for w in points if w not in (0.0, default)]
    assert len(trained) >= 2
    for weight in trained:
        run_dir = Path(points[weight]["run_dir"])
        assert run_dir.name == f"tradeoff_w{weight:g}" and run_dir.parent.name == "mri_superres"
        assert f"--set loss.adversarial={weight_value(weight)}" in points[weight]["command"]
        assert points[weight]["returncode"] == 0 and points[weight]["steps"] == 6
        assert any("g_adv" in row for row in map(json.loads, (run_dir / "metrics.jsonl").open()))
        assert {"psnr", "ssim", "st_lpips"} <= set(points[weight]["metrics"])
    assert record["baseline"]["name"] == "bicubic" and "psnr" in record["baseline"]["metrics"]
    assert record["figures"] == ["mri_superres_tradeoff.png"]


def test_speed_ratios_are_computed_from_their_parts(results: dict) -> None:
    """Each ratio is the median over the interleaved rounds of the per-round ratios, with its spread."""
    import statistics

    (speed,) = results["speed"]
    assert speed["status"] == "ok"
    tr, fl, da = speed["trainer"], speed["flops"], speed["data"]
    rounds, per_round = tr["rounds"], tr["per_round"]
    assert rounds == 5 and tr["steps"] == 2  # the smoke mode's rounds of steps
    parts = {"ratio_plain": ("recon_ms", "plain_ms"), "ratio_plain_cpu": ("recon_cpu_ms", "plain_cpu_ms"),
             "ratio_monai": ("recon_ms", "monai_ms"), "ratio_basicsr": ("recon_ms", "basicsr_ms")}
    for ratio, (num, den) in parts.items():
        values = per_round[ratio]
        assert len(values) == rounds
        assert values == pytest.approx([n / d for n, d in zip(per_round[num], per_round[den], strict=True)], rel=1e-3)
        assert tr[ratio] == pytest.approx(statistics.median(values), abs=1e-4)
        assert tr["spread"][ratio] == [min(values), max(values)]
    assert tr["recon_ms"] == pytest.approx(statistics.median(per_round["recon_ms"]), abs=1e-3)
    assert tr["basicsr"] == "ok" and tr["syncs_per_step"] <= 1
    ref = fl["reference"]
    widths = sorted(set(fl["widths"].values()))
    assert [s[1] for s in ref["shapes"]] == widths and fl["widths"]["generator"] == 8  # the smoke preset's G width
    n, _, h, w = ref["shapes"][0]
    assert ref["gflop"] == pytest.approx(sum(3 * 2 * n * c * c * 9 * h * w for c in widths) / 1e9, abs=1e-4)
    efficiency = [(fl["step_gflop"] / r) / (ref["gflop"] / f)
                  for r, f in zip(per_round["recon_ms"], per_round["reference_ms"], strict=True)]
    assert fl["per_round"] == pytest.approx(efficiency, rel=1e-2)
    assert fl["efficiency"] == pytest.approx(statistics.median(fl["per_round"]), abs=1e-4)
    assert fl["spread"] == [min(fl["per_round"]), max(fl["per_round"])]
    assert 0 < fl["breakdown"]["conv_time_share"] <= 1 and fl["conv_flop_share"] > 0.9
    assert da["ratio"] == pytest.approx(da["delivered_samples_per_s"] / da["consumed_samples_per_s"], rel=1e-2)
    assert da["device_path_samples_per_s"] > 0  # data.simulate_on=device measured beside the CPU path
    assert speed["batch_size"] == 4  # the smoke preset's batch


def test_scaling_points_grow_the_batch(results: dict) -> None:
    scaling = results["scaling"]
    points = {(p["batch_size"], p["patch_size"]): p for p in scaling["points"]}
    assert set(points) == {(2, 32), (4, 32)}
    assert all(p["status"] == "ok" and p["peak_rss_mb"] >= p["step_mem_mb"] for p in points.values())


def test_figures_exist_and_record_the_machine(smoke_suite: tuple[Path, subprocess.CompletedProcess],
                                               results: dict) -> None:
    from PIL import Image

    out, _ = smoke_suite
    expected = {"mri_superres_metrics.png", "mri_superres_samples.png", "mri_superres_losses.png",
                "mri_superres_tradeoff.png", "speed.png", "scaling.png"}
    assert expected <= set(results["figures"])
    machine = results["machine"]
    for name in results["figures"]:
        with Image.open(out / "figures" / name) as image:
            description = image.info.get("Description", "")
        assert machine["cpu"] in description and machine["torch"] in description, name
        assert f"{machine['cores']} cores" in description


def test_update_readme_replaces_only_the_marked_section(smoke_suite: tuple[Path, subprocess.CompletedProcess],
                                                        results: dict, tmp_path: Path) -> None:
    from benchmarks.__main__ import main

    out, _ = smoke_suite
    readme = tmp_path / "README.md"
    before, after = "# Title\n\nintro\n\n", "\n\n## Next section\nkept\n"
    readme.write_text(before + "<!-- results:start -->\nold table\n<!-- results:end -->" + after)
    assert main(["--update-readme", str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith(before) and text.endswith(after) and "old table" not in text
    assert "| mri_superres | **recon (adversarial)** |" in text and "recon / plain" in text
    assert "median over 5 rounds of 2 steps" in text and "[min–max] over the rounds" in text
    # the default against its twin, from the quality row (its full length), not the sweep's point
    assert "- mri_superres: st_lpips " in text and "vs the non-adversarial twin (smoke preset, 6 steps)" in text
    assert "/figures/mri_superres_tradeoff.png)" in text
    assert main(["--update-readme", str(out), "--readme", str(readme)]) == 0
    assert readme.read_text() == text  # idempotent


def test_update_readme_without_markers_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from benchmarks.__main__ import main

    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    assert main(["--update-readme", str(tmp_path), "--readme", str(readme)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "<!-- results:start -->" in err
    assert readme.read_text() == "# no markers\n"


def test_bad_tradeoff_steps_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from benchmarks.__main__ import main

    assert main(["--suite", "tradeoff", "--smoke", "--tradeoff-steps", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--tradeoff-steps must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unknown_task_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from benchmarks.__main__ import main

    assert main(["--suite", "quality", "--smoke", "--tasks", "mri_superess", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "did you mean 'mri_superres'" in err
    assert not (tmp_path / "o").exists()


# -- discovery through the plugin registry --------------------------------------------------
class _VariantsTask(Task):
    name = "bench_variants"
    benchmark = [{"label": "bench_4x"}, {"label": "bench_8x", "overrides": ["data.scale=8"], "seed": 3}]


def _fake_plugin() -> types.ModuleType:
    module = types.ModuleType("bench_fake_plugin")

    @hookimpl
    def register_tasks(register):  # noqa: ANN001, ANN202
        register("bench_opt_out", Task, description="opted out", benchmark=False)
        register("bench_variants", _VariantsTask, description="two variants")
        register("bench_by_extra", Task, description="declared at registration", benchmark={"preset": "paper"})

    module.register_tasks = register_tasks
    return module


@pytest.fixture
def third_party(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real registry plus a third-party plugin, as the process-wide plugin system."""
    import recon.plugins as plugins

    system = plugins.PluginSystem()
    system.load_entry_points()
    system.add_plugin(_fake_plugin(), "bench_fake")
    monkeypatch.setattr(plugins, "_SYSTEM", system)


def test_tasks_are_discovered_from_the_registry(third_party: None) -> None:
    from benchmarks.spec import discover
    from recon.errors import UsageError
    from recon.plugins import get_plugin_system

    entries = {e.name: e for e in discover()}
    assert set(entries) == set(get_plugin_system().tasks.names())  # nothing hard-coded
    assert [s.label for s in entries["mri_superres"].specs] == ["mri_superres", "mri_superres_no_augment",
                                                                "mri_superres_finetune"]
    assert entries["mri_superres"].specs[0].preset == "default"
    assert entries["bench_opt_out"].specs == []
    variants = entries["bench_variants"].specs
    assert [(s.label, s.overrides, s.seed) for s in variants] == [("bench_4x", [], 0),
                                                                  ("bench_8x", ["data.scale=8"], 3)]
    assert entries["bench_by_extra"].specs[0].preset == "paper"
    # named explicitly, an opted-out task runs anyway
    assert [s.label for s in discover(["bench_opt_out"])[0].specs] == ["bench_opt_out"]
    # a variant's label selects that variant of its task only, also when it is the task's name
    assert [s.label for s in discover(["mri_superres"])[0].specs] == ["mri_superres"]
    assert [s.label for s in discover(["mri_superres_no_augment"])[0].specs] == ["mri_superres_no_augment"]
    (entry,) = discover(["bench_8x"])
    assert entry.name == "bench_variants"
    assert [(s.label, s.overrides) for s in entry.specs] == [("bench_8x", ["data.scale=8"])]
    with pytest.raises(UsageError, match="unknown task"):
        discover(["bench_16x"])


def test_bad_benchmark_declarations_are_usage_errors() -> None:
    from benchmarks.spec import parse_spec
    from recon.errors import UsageError

    with pytest.raises(UsageError, match="unknown benchmark field"):
        parse_spec("t", {"presett": "default"})
    with pytest.raises(UsageError, match="distinct labels"):
        parse_spec("t", [{}, {}])
    with pytest.raises(UsageError, match="bool, a mapping"):
        parse_spec("t", "default")


def test_sweeps_need_zero_and_three_other_weights() -> None:
    from benchmarks.spec import parse_spec
    from recon.errors import UsageError

    (spec,) = parse_spec("t", {"sweep": [0.02, 0, 1e-3, 5e-3]})
    assert spec.sweep == [0.0, 1e-3, 5e-3, 2e-2]  # sorted floats
    assert parse_spec("t", {})[0].sweep is None
    for bad in ([1e-3, 5e-3, 2e-2, 0.1], [0, 1e-3, 5e-3], [0, 1e-3, 1e-3, 5e-3]):
        with pytest.raises(UsageError, match="task t: benchmark sweep needs 0"):
            parse_spec("t", {"sweep": bad})
    for bad in ("0,1", [0, -1e-3, 1e-3, 2e-3], [0, "a", 1, 2]):
        with pytest.raises(UsageError, match="task t: benchmark sweep"):
            parse_spec("t", {"sweep": bad})


def test_built_in_paired_tasks_declare_sweeps_and_stylegan2_does_not() -> None:
    from benchmarks.spec import discover

    sweeps = {s.label: s.sweep for e in discover() for s in e.specs}
    for label in ("srgan", "mri_superres", "mri_kspace_4x", "mri_motion", "inpainting", "mri_translation"):
        assert sweeps[label] is not None and sweeps[label][0] == 0 and len(sweeps[label]) >= 4, label
    assert sweeps["mri_kspace_8x"] is None and sweeps["stylegan2"] is None


def test_opted_out_and_broken_tasks_are_recorded_not_raised(third_party: None, tmp_path: Path) -> None:
    from benchmarks.quality import run_quality
    from benchmarks.spec import BenchmarkSpec, TaskEntry

    entries = [TaskEntry("bench_opt_out", "bench_fake", "", []),
               TaskEntry("mri_superres", "superres", "", [BenchmarkSpec(label="broken", smoke_preset="nope")])]
    records = run_quality(entries, tmp_path, smoke=True, device="cpu", log=lambda _: None)
    assert [(r["label"], r["status"]) for r in records] == [("bench_opt_out", "skipped"), ("broken", "failed")]
    assert "unknown preset 'nope'" in records[1]["reason"]


def test_peak_memory_is_measured_per_child(tmp_path: Path) -> None:
    from benchmarks.proc import run_child

    big = run_child([sys.executable, "-c", "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096])"],
                    tmp_path / "big.log")
    small = run_child([sys.executable, "-c", "pass"], tmp_path / "small.log")
    assert big.returncode == 0 and small.returncode == 0
    assert big.peak_rss_mb > 300 > small.peak_rss_mb  # RUSAGE_CHILDREN would report 300+ twice


def test_child_timeout_kills_and_reports(tmp_path: Path) -> None:
    from benchmarks.proc import run_child

    result = run_child([sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"],
                       tmp_path / "slow.log", timeout_s=1)
    assert result.timed_out and result.returncode != 0 and result.wall_s < 30
    assert "started" in result.tail()
