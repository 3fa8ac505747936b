"""The tradeoff suite (``python -m benchmarks --suite tradeoff``): the perception-distortion sweep.

One real smoke sweep of ``mri_superres`` (four short trainings, about a minute on 2 cores);
reuse, reduced steps and failed points are checked with a stand-in for the child process.
The reuse of the quality runs within ``--suite all`` is checked in tests/test_benchmarks.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "benchmarks" / "schema.json"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """``python -m benchmarks --suite tradeoff --smoke --tasks mri_superres --out DIR``, run once."""
    out = tmp_path_factory.mktemp("tradeoff") / "out"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--suite", "tradeoff", "--smoke", "--tasks",
                           "mri_superres", "--out", str(out)], capture_output=True, text=True, cwd=REPO, timeout=900)
    return out, proc


def test_tradeoff_suite_writes_valid_results_with_a_sweep(sweep: tuple[Path, subprocess.CompletedProcess]) -> None:
    import jsonschema

    out, proc = sweep
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(results)
    assert results["suite"] == "tradeoff" and "quality" not in results and "speed" not in results
    (record,) = results["tradeoff"]
    assert record["status"] == "ok" and record["label"] == "mri_superres" and record["preset"] == "smoke"
    weights = [p["weight"] for p in record["points"]]
    assert len(weights) >= 4 and weights[0] == 0 and weights == sorted(weights)
    assert all(p["status"] == "ok" and not p["reused"] and p["steps"] == record["steps"] for p in record["points"])
    assert sum(p["default"] for p in record["points"]) == 1
    assert all({"psnr", "ssim", "st_lpips"} <= set(p["metrics"]) for p in record["points"])
    assert all(p["wall_s"] > 0 and p["peak_rss_mb"] > 100 for p in record["points"])
    assert all(Path(p["run_dir"]).parent == out / "scratch" / "mri_superres" for p in record["points"])


def test_tradeoff_figure_and_markdown_section(sweep: tuple[Path, subprocess.CompletedProcess]) -> None:
    from PIL import Image

    out, proc = sweep
    results = json.loads((out / "results.json").read_text())
    (record,) = results["tradeoff"]
    assert record["figures"] == ["mri_superres_tradeoff.png"] and results["figures"] == record["figures"]
    with Image.open(out / "figures" / "mri_superres_tradeoff.png") as image:
        assert results["machine"]["cpu"] in image.info.get("Description", "")
    markdown = (out / "results.md").read_text()
    for text in (markdown, proc.stdout):
        assert "## Perception–distortion trade-off" in text and "### mri_superres" in text
        assert "| weight (loss.adversarial) | psnr | ssim | st_lpips | kid_patch | fid_patch | wall (min) |" in text
        assert f"| **{record['default_weight']:g} (default)** |" in text and "| *bicubic* |" in text
    assert "![mri_superres_tradeoff.png](figures/mri_superres_tradeoff.png)" in markdown


# -- without training: a stand-in for the child process ---------------------------------------
def _fake_train_run(fail: set[float], calls: list[dict[str, Any]]):  # noqa: ANN202
    """``train_run`` that writes an eval.json (PSNR falling, ST-LPIPS falling with the weight)."""
    def fake(task: str, spec: Any, preset: str, run_dir: Path, device: str, extra: list[str],
             timeout_s: float) -> tuple[dict[str, Any], None]:
        weight = float(next(e for e in extra if e.startswith("loss.adversarial=")).split("=")[1])
        calls.append({"weight": weight, "extra": extra, "run_dir": run_dir})
        run_dir.mkdir(parents=True, exist_ok=True)
        code = 1 if weight in fail else 0
        if not code:
            metrics = {"psnr": 30 - 10 * weight, "ssim": 0.9, "st_lpips": 0.3 - weight, "kid_patch": 0.02 - weight / 10,
                       "kid_patch_std": 0.001}
            (run_dir / "eval.json").write_text(json.dumps({
                "split": "test", "n_images": 4, "metrics": metrics,
                "baseline": {"name": "bicubic", "metrics": {"psnr": 29.0, "st_lpips": 0.4, "kid_patch": 0.05}}}))
        run = {"name": run_dir.name, "run_dir": str(run_dir), "command": "recon run " + " ".join(extra),
               "returncode": code, "timed_out": False, "wall_s": 1.5, "peak_rss_mb": 500.0, "steps": 6}
        return run, None
    return fake


def _quality_record(tmp_path: Path, default_weight: float) -> list[dict[str, Any]]:
    """A quality record whose two runs have an eval.json, as run_quality leaves them."""
    runs = []
    for name, weight in (("non_adversarial", 0.0), ("adversarial", default_weight)):
        run_dir = tmp_path / "scratch" / "mri_superres" / name
        run_dir.mkdir(parents=True)
        (run_dir / "eval.json").write_text(json.dumps({"split": "test", "n_images": 4,
                                                       "metrics": {"psnr": 31 - weight, "st_lpips": 0.31}}))
        runs.append({"name": name, "run_dir": str(run_dir), "command": f"recon run {name}", "returncode": 0,
                     "timed_out": False, "wall_s": 2.0, "peak_rss_mb": 600.0, "steps": 6})
    return [{"label": "mri_superres", "preset": "smoke", "status": "ok", "runs": runs}]


@pytest.fixture
def fake_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import benchmarks.tradeoff as tradeoff

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(tradeoff, "train_run", _fake_train_run({0.005}, calls))
    return calls


def _entry() -> Any:
    from benchmarks.spec import BenchmarkSpec, TaskEntry

    return TaskEntry("mri_superres", "superres", "", [BenchmarkSpec(label="mri_superres", sweep=[0, 1e-3, 5e-3, 2e-2])])


def test_quality_runs_are_reused_and_a_failed_point_does_not_stop_the_sweep(fake_runs: list, tmp_path: Path) -> None:
    from benchmarks.suite import failures
    from benchmarks.tradeoff import run_tradeoff

    entry = _entry()
    quality = _quality_record(tmp_path, default_weight=1e-3)  # the smoke preset's weight
    (record,) = run_tradeoff([entry], tmp_path, smoke=True, device="cpu", quality=quality, log=lambda _: None)
    assert [c["weight"] for c in fake_runs] == [5e-3, 2e-2]  # 0 and the default were reused
    assert all(c["extra"] == [f"loss.adversarial={c['weight']}"] for c in fake_runs)  # no step override
    assert fake_runs[0]["run_dir"] == tmp_path / "scratch" / "mri_superres" / "tradeoff_w0.005"
    points = {p["weight"]: p for p in record["points"]}
    assert [w for w, p in points.items() if p["reused"]] == [0.0, 1e-3]
    assert points[0.0]["metrics"] == {"psnr": 31.0, "st_lpips": 0.31}
    assert points[5e-3]["status"] == "failed" and "exit 1" in points[5e-3]["reason"]
    assert record["status"] == "ok" and record["wall_s"] == 3.0  # only what this suite trained
    assert record["baseline"]["name"] == "bicubic"  # from the first eval.json that has one
    assert failures({"tradeoff": [record]}) == ["tradeoff:mri_superres@λ=0.005"]


def test_reduced_steps_train_every_weight_and_are_stated(fake_runs: list, tmp_path: Path) -> None:
    from benchmarks.figures import tradeoff_figure, tradeoff_title
    from benchmarks.report import results_markdown, tradeoff_lines
    from benchmarks.tradeoff import run_tradeoff

    quality = _quality_record(tmp_path, default_weight=1e-3)
    (record,) = run_tradeoff([_entry()], tmp_path, smoke=True, device="cpu", steps=3, quality=quality,
                             log=lambda _: None)
    assert [c["weight"] for c in fake_runs] == [0.0, 1e-3, 5e-3, 2e-2]  # nothing reused at other steps
    # the discriminator's warm-up keeps its share of the run: 2 of the smoke preset's 6 steps -> 1 of 3
    assert all(c["extra"][-2:] == ["trainer.max_steps=3", "trainer.d_warmup_steps=1"] for c in fake_runs)
    assert record["reduced"] is True and record["steps"] == 3 and record["preset_steps"] == 6
    assert record["baseline"] == {"name": "bicubic", "metrics": {"psnr": 29.0, "st_lpips": 0.4, "kid_patch": 0.05}}
    assert "reduced to 3 steps" in tradeoff_title(record)
    name = tradeoff_figure(record, tmp_path / "figures" / "x_tradeoff.png", {"cpu": "cpu", "cores": 2})
    assert name == "x_tradeoff.png" and (tmp_path / "figures" / name).stat().st_size > 0
    record["figures"] = [name]
    results = {"created": "now", "command": "c", "machine": {"cpu": "cpu", "cores": 2}, "wall_s": 1.0,
               "smoke": True, "tradeoff": [record], "figures": [name]}
    markdown = results_markdown(results)
    assert "smoke preset, reduced to 3 steps (preset: 6), seed 0" in markdown
    assert "| 0.005 | *failed*: recon run exit 1" in markdown
    (line,) = tradeoff_lines([record])
    assert line.startswith("- mri_superres: st_lpips −0.3 % / kid_patch −0.5 % / PSNR −0.01 dB")
    assert line.endswith("(λ=0.001, reduced to 3 steps (preset: 6))")


def test_the_default_weight_is_a_point_even_when_not_declared() -> None:
    from benchmarks.tradeoff import sweep_weights, weight_value

    assert sweep_weights([0.0, 1e-3, 5e-3, 2e-2], 5e-4) == [0.0, 5e-4, 1e-3, 5e-3, 2e-2]
    assert sweep_weights([0.0, 1e-3, 5e-3, 2e-2], 1e-3) == [0.0, 1e-3, 5e-3, 2e-2]
    assert weight_value(1e-5) == "0.00001" and weight_value(0) == "0.0"  # YAML reads 1e-05 as a string


def test_readme_shows_the_lead_tasks_tradeoff_figure(tmp_path: Path) -> None:
    from benchmarks.report import readme_section

    def record(task: str) -> dict[str, Any]:
        points = [{"weight": w, "status": "ok", "default": w == 1e-3,
                   "metrics": {"psnr": 30.0 - w, "st_lpips": 0.2 - w}}
                  for w in (0.0, 1e-3)]
        return {"label": task, "task": task, "status": "ok", "points": points, "figures": [f"{task}_tradeoff.png"]}

    res = {"created": "now", "command": "c", "machine": {"cpu": "cpu", "cores": 2}, "wall_s": 1.0,
           "tradeoff": [record("srgan"), record("mri_superres")]}
    text = readme_section((tmp_path / "results.json", res), None, tmp_path)
    assert "![mri_superres: perception–distortion trade-off](./figures/mri_superres_tradeoff.png)" in text
    assert "![srgan" not in text and "[srgan](./figures/srgan_tradeoff.png)" in text  # one image, others linked
    assert "- srgan: st_lpips" in text and "- mri_superres: st_lpips" in text  # one line per swept task


def test_readme_lines_compare_the_full_length_default_with_its_twin(tmp_path: Path) -> None:
    """A task with a quality row is stated from that row (full length), not from its reduced sweep."""
    from benchmarks.report import readme_section

    sweep = {"label": "mri_superres", "task": "mri_superres", "status": "ok", "reduced": True, "steps": 3,
             "preset_steps": 6, "figures": ["mri_superres_tradeoff.png"],
             "points": [{"weight": w, "status": "ok", "default": w == 1e-3,
                         "metrics": {"psnr": 30.0, "st_lpips": 0.2}} for w in (0.0, 1e-3)]}
    quality = {"label": "mri_superres", "status": "ok", "preset": "default", "wall_s": 60.0, "peak_rss_mb": 900.0,
               "runs": [{"name": "non_adversarial", "steps": 6}, {"name": "adversarial", "steps": 6}],
               "methods": ["recon (adversarial)", "bicubic", "non-adversarial"],
               "metrics": {"recon (adversarial)": {"psnr": 31.5, "st_lpips": 0.1, "kid_patch": 0.05},
                           "bicubic": {"psnr": 28.0, "st_lpips": 0.4, "kid_patch": 0.2},
                           "non-adversarial": {"psnr": 32.0, "st_lpips": 0.2, "kid_patch": 0.06}}}
    res = {"created": "now", "command": "c", "machine": {"cpu": "cpu", "cores": 2}, "wall_s": 1.0,
           "quality": [quality], "tradeoff": [sweep]}
    text = readme_section((tmp_path / "results.json", res), None, tmp_path)
    assert ("- mri_superres: st_lpips −50 % / kid_patch −17 % / PSNR −0.50 dB vs the non-adversarial twin "
            "(default preset, 6 steps)") in text
    assert text.count("- mri_superres:") == 1  # the reduced sweep's own line is not repeated
    assert "reduced to 3 steps (preset: 6)" in text  # the figure says it is a reduced sweep


def test_readme_table_leaves_per_class_and_anatomy_columns_to_results_md(tmp_path: Path) -> None:
    from benchmarks.report import readme_section, results_markdown

    metrics = {"fid": 100.0, "kid": 0.1, "fid_class_t1": 120.0, "kid_class_t1": 0.2, "anat_w1_brain": 0.3}
    rec = {"label": "stylegan2_conditional", "status": "ok", "preset": "default", "wall_s": 60.0,
           "peak_rss_mb": 900.0, "methods": ["recon (adversarial)"], "metrics": {"recon (adversarial)": metrics},
           "runs": []}
    res = {"created": "now", "command": "c", "machine": {"cpu": "cpu", "cores": 2}, "wall_s": 1.0,
           "smoke": False, "quality": [rec]}
    readme = readme_section((tmp_path / "results.json", res), None, tmp_path)
    header = next(line for line in readme.splitlines() if line.startswith("| task |"))
    assert "| fid | kid |" in header and "fid_class_t1" not in header and "anat_w1_brain" not in header
    full = results_markdown(res)
    assert "fid_class_t1" in full and "kid_class_t1" in full and "anat_w1_brain" in full
