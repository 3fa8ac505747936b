"""PNG figures of a benchmark run (matplotlib, Agg): every figure carries the machine.

- ``<label>_metrics.png``: one bar chart per metric, the model beside each baseline;
- ``<label>_samples.png``: the runs' last sample grids (input | output | target);
- ``<label>_losses.png``: loss curves and validation metrics from ``metrics.jsonl``;
- ``speed.png``: step times of recon / plain loop / MONAI and every ratio against its target;
- ``scaling.png``: step time and memory against batch size and patch size;
- ``<label>_tradeoff.png``: the perception-distortion plane of an adversarial-weight sweep.

The machine line (CPU, cores, torch, device, load) is printed under each figure and stored
in the PNG's ``Description`` metadata.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.machine import machine_line  # noqa: E402

#: metrics where lower is better (all others: higher is better)
LOWER_IS_BETTER = {"nmse", "lpips", "fid", "kid", "mse", "mae", "hfen", "st_lpips", "st_lpips_vgg", "kid_patch",
                   "fid_patch", "l1_hole"}
MODEL_COLOR, OTHER_COLOR = "#1f77b4", "#b0b0b0"
LOSS_KEYS = ("g_loss", "d_loss", "l1", "l2", "perceptual", "g_adv", "r1", "gp", "g_reg")


def _save(fig: Any, path: Path, machine: dict[str, Any]) -> str:
    line = machine_line(machine)
    fig.text(0.01, 0.005, line, fontsize=7, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Description": line, "Software": "recon benchmarks"})
    plt.close(fig)
    return path.name


def metric_bars(record: dict[str, Any], path: Path, machine: dict[str, Any]) -> str | None:
    """Bars per metric: the model (blue) and each baseline (grey)."""
    methods, metrics = record.get("methods") or [], record.get("metrics") or {}
    names = [k for k, v in metrics.get(methods[0], {}).items()
             if isinstance(v, (int, float)) and not k.endswith("_std")] if methods else []
    if not names:
        return None
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names) + 0.5, 3.6), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        values = [metrics[m].get(name) for m in methods]
        shown = [(m, v) for m, v in zip(methods, values, strict=True) if isinstance(v, (int, float))]
        bars = ax.bar(range(len(shown)), [v for _, v in shown],
                      color=[MODEL_COLOR if i == 0 else OTHER_COLOR for i in range(len(shown))])
        ax.bar_label(bars, fmt="%.4g", fontsize=7)
        ax.set_xticks(range(len(shown)), [m for m, _ in shown], rotation=20, ha="right", fontsize=8)
        ax.set_title(f"{name} ({'lower' if name in LOWER_IS_BETTER else 'higher'} is better)", fontsize=9)
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        finite = [v for _, v in shown]
        if finite and name not in LOWER_IS_BETTER and min(finite) > 0:
            low, high = min(finite), max(finite)
            ax.set_ylim(max(0.0, low - (high - low) * 1.5 - 1e-9), high + (high - low) * 0.5 + 1e-9)
    conv = (record.get("conventions") or {}).get("name", "?")
    fig.suptitle(f"{record['label']}: {record.get('split', 'test')} split, {record.get('n_images')} images, "
                 f"{conv} convention, seed {record.get('seed')}", fontsize=10)
    return _save(fig, path, machine)


def _last_sample(run_dir: Path) -> Path | None:
    samples = sorted((run_dir / "samples").glob("*.png"))
    return samples[-1] if samples else None


def sample_grid(record: dict[str, Any], path: Path, machine: dict[str, Any]) -> str | None:
    """The last sample grid of each run, copied beside the figure and shown one above the other."""
    from PIL import Image

    grids = []
    for run in record.get("runs", []):
        sample = _last_sample(Path(run["run_dir"]))
        if sample is not None:
            copy = path.with_name(f"{record['label']}_samples_{run['name']}.png")
            shutil.copyfile(sample, copy)
            grids.append((run["name"].replace("_", "-"), sample))
    if not grids:
        return None
    images = [Image.open(p).convert("RGB") for _, p in grids]
    aspect = max(im.height / im.width for im in images)
    width = 4.5 * len(images)
    fig, axes = plt.subplots(1, len(images), figsize=(width, 4.5 * aspect + 1.0), squeeze=False)
    for ax, (name, _), image in zip(axes[0], grids, images, strict=True):
        ax.imshow(image, interpolation="nearest")
        panels = "samples (task.visualize)" if record.get("unconditional") else "input | output | target"
        ax.set_title(f"{record['label']} ({name})\n{panels}", fontsize=9)
        ax.axis("off")
    return _save(fig, path, machine)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl`` (lines cut by a crash are skipped)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def loss_curves(record: dict[str, Any], path: Path, machine: dict[str, Any]) -> str | None:
    """Training losses (left) and one panel per validation metric, each run against the step
    (non-adversarial dashed, adversarial solid)."""
    runs = [(run, read_jsonl(Path(run["run_dir"]) / "metrics.jsonl")) for run in record.get("runs", [])]
    val_keys = sorted({k for _, rows in runs for r in rows for k in r if k.startswith("val/")})[:4]
    fig, axes = plt.subplots(1, 1 + len(val_keys), figsize=(5.5 + 3.5 * len(val_keys), 4), squeeze=False)
    ax_loss, val_axes = axes[0, 0], dict(zip(val_keys, axes[0, 1:], strict=True))
    plotted = False
    for run, rows in runs:
        style = "--" if run["name"] == "non_adversarial" else "-"
        for key in LOSS_KEYS:
            pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
            if pts:
                ax_loss.plot(*zip(*pts, strict=True), style, label=f"{key} ({run['name']})", linewidth=1)
                plotted = True
        for key, ax in val_axes.items():
            pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
            if pts:
                ax.plot(*zip(*pts, strict=True), style, marker="o", label=run["name"], linewidth=1)
    if not plotted:
        plt.close(fig)
        return None
    ax_loss.set_yscale("symlog", linthresh=1e-3)
    ax_loss.set(xlabel="step", title="training losses (metrics.jsonl)")
    ax_loss.legend(fontsize=6, ncol=2)
    for key, ax in val_axes.items():
        ax.set(xlabel="step", title=key)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.legend(fontsize=6)
    fig.suptitle(f"{record['label']}: {record.get('preset')} preset, seed {record.get('seed')}", fontsize=10)
    return _save(fig, path, machine)


def speed_figure(records: list[dict[str, Any]], path: Path, machine: dict[str, Any]) -> str | None:
    """Per task: median step time of each loop, and each measured ratio with its target."""
    ok = [r for r in records if r.get("status") == "ok"]
    if not ok:
        return None
    fig, axes = plt.subplots(len(ok), 2, figsize=(11, 3.6 * len(ok)), squeeze=False)
    for (ax_t, ax_r), rec in zip(axes, ok, strict=True):
        tr = rec["trainer"]
        loops = [("recon", tr["recon_ms"]), ("plain loop", tr["plain_ms"]), ("MONAI GanTrainer", tr["monai_ms"])]
        loops = [(n, v) for n, v in loops if v is not None]
        bars = ax_t.bar([n for n, _ in loops], [v for _, v in loops], color=[MODEL_COLOR] + [OTHER_COLOR] * 2)
        ax_t.bar_label(bars, fmt="%.1f ms", fontsize=8)
        ax_t.set(ylabel="median step (ms)",
                 title=f"{rec['task']}: batch {rec['batch_size']}, patch {rec['patch_size']}, {rec['device']}")
        ratios = [("recon / plain", tr["ratio_plain"], tr["target_plain"], "<="),
                  ("recon / MONAI", tr["ratio_monai"], tr["target_monai"], "<"),
                  ("FLOP/s vs dense conv", rec["flops"]["efficiency"], rec["flops"]["target"], ">="),
                  ("data / consumption", rec["data"]["ratio"], rec["data"]["target"], ">=")]
        ratios = [r for r in ratios if r[1] is not None]
        xs = range(len(ratios))
        bars = ax_r.bar(xs, [r[1] for r in ratios], color=MODEL_COLOR)
        ax_r.bar_label(bars, labels=[f"{r[1]:.3g}" for r in ratios], fontsize=8)
        ax_r.scatter(xs, [r[2] for r in ratios], marker="_", s=900, color="red", zorder=3, label="target")
        ax_r.set_xticks(list(xs), [f"{r[0]}\n(target {r[3]} {r[2]:g})" for r in ratios], fontsize=7)
        ax_r.set_yscale("log")
        ax_r.set_title("measured ratio (bar) vs target (red)", fontsize=9)
    return _save(fig, path, machine)


def scaling_figure(scaling: dict[str, Any], path: Path, machine: dict[str, Any]) -> str | None:
    """Step time and memory against batch size (at the base patch) and patch size (at the base batch)."""
    pts = [p for p in scaling.get("points", []) if p.get("status") == "ok"]
    if not pts:
        return None
    base_b, base_s = scaling.get("base_batch_size"), scaling.get("base_patch_size")
    series = {
        "batch size": sorted((p["batch_size"], p) for p in pts if p["patch_size"] == base_s),
        "patch size (HR pixels)": sorted((p["patch_size"], p) for p in pts if p["batch_size"] == base_b),
    }
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for col, (xlabel, rows) in enumerate(series.items()):
        if not rows:
            continue
        xs = [x for x, _ in rows]
        axes[0, col].plot(xs, [p["step_ms"] for _, p in rows], "o-", color=MODEL_COLOR)
        axes[0, col].set(xlabel=xlabel, ylabel="median step (ms)")
        mem_key = "cuda_peak_mb" if all("cuda_peak_mb" in p for _, p in rows) else "peak_rss_mb"
        axes[1, col].plot(xs, [p[mem_key] for _, p in rows], "o-", label=mem_key.replace("_mb", " (MiB)"))
        if mem_key == "peak_rss_mb":
            axes[1, col].plot(xs, [p["step_mem_mb"] for _, p in rows], "s--", label="added by training (MiB)")
        axes[1, col].set(xlabel=xlabel, ylabel="memory (MiB)")
        axes[1, col].legend(fontsize=7)
    axes[0, 0].set_title(f"patch {base_s}", fontsize=9)
    axes[0, 1].set_title(f"batch {base_b}", fontsize=9)
    fig.suptitle(f"scaling of {scaling['task']} ({scaling.get('preset')} preset networks)", fontsize=10)
    return _save(fig, path, machine)


#: the perception axes of the trade-off figure, one panel each (PSNR is the distortion axis)
TRADEOFF_AXES = (("st_lpips", "ST-LPIPS (lower = more realistic)"), ("kid_patch", "patch KID (lower = more realistic)"))


def tradeoff_title(record: dict[str, Any]) -> str:
    """Task, split, images, steps (and the reduction), seed."""
    steps = f"{record.get('steps')} steps"
    if record.get("reduced"):
        steps = f"reduced to {record.get('steps')} steps (preset: {record.get('preset_steps')})"
    return (f"{record['label']}: perception–distortion trade-off\n{record.get('split', 'test')} split, "
            f"{record.get('n_images')} images, {record.get('preset')} preset, {steps}, seed {record.get('seed')}")


def _tradeoff_panel(ax: Any, record: dict[str, Any], key: str, xlabel: str) -> bool:
    """One perception (x) vs PSNR (y) panel; ``False`` when no point has ``key``."""
    pts = [p for p in record.get("points", []) if p.get("status") == "ok"
           and isinstance(p["metrics"].get(key), (int, float)) and isinstance(p["metrics"].get("psnr"), (int, float))]
    if not pts:
        return False
    pts.sort(key=lambda p: p["weight"])
    xs, ys = [p["metrics"][key] for p in pts], [p["metrics"]["psnr"] for p in pts]
    ax.plot(xs, ys, "-o", color=MODEL_COLOR, linewidth=1, markersize=5, zorder=2, label="recon, λ sweep")
    for p, x, y in zip(pts, xs, ys, strict=True):
        ax.annotate(f"λ={p['weight']:g}", (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
        if p["weight"] == 0:
            ax.scatter([x], [y], marker="s", s=70, facecolor="none", edgecolor="black", zorder=3,
                       label="λ=0 (non-adversarial twin)")
        if p.get("default"):
            ax.scatter([x], [y], marker="*", s=220, color="#d62728", zorder=4, label="default")
            ax.annotate("default", (x, y), textcoords="offset points", xytext=(5, -11), fontsize=7, color="#d62728")
    base = record.get("baseline") or {}
    bm = base.get("metrics") or {}
    if isinstance(bm.get(key), (int, float)) and isinstance(bm.get("psnr"), (int, float)):
        ax.scatter([bm[key]], [bm["psnr"]], marker="D", s=45, color=OTHER_COLOR, edgecolor="#666666", zorder=3,
                   label=f"{base.get('name')} (classical baseline)")
        ax.annotate(str(base.get("name")), (bm[key], bm["psnr"]), textcoords="offset points", xytext=(5, 4),
                    fontsize=7, color="#666666")
    ax.set(xlabel=xlabel, ylabel="PSNR (dB, higher = less distortion)")
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return True


def tradeoff_figure(record: dict[str, Any], path: Path, machine: dict[str, Any]) -> str | None:
    """PSNR against ST-LPIPS (left) and against patch KID (right) over the weights of a sweep."""
    if record.get("status") != "ok":
        return None
    def has(point: dict[str, Any], key: str) -> bool:
        metrics = point.get("metrics") or {}
        return all(isinstance(metrics.get(k), (int, float)) for k in (key, "psnr"))

    axes_wanted = [(k, label) for k, label in TRADEOFF_AXES if any(has(p, k) for p in record["points"])]
    if not axes_wanted:
        return None
    fig, axes = plt.subplots(1, len(axes_wanted), figsize=(6.2 * len(axes_wanted), 5), squeeze=False)
    for ax, (key, label) in zip(axes[0], axes_wanted, strict=True):
        _tradeoff_panel(ax, record, key, label)
    fig.suptitle(tradeoff_title(record), fontsize=10)
    return _save(fig, path, machine)
