"""Volumetric report of a trained ``mri_progression`` model: what a per-case mean cannot say.

``python -m recon_progression.report --checkpoint RUN/checkpoints/last.pt [--json FILE]``
scores the model and both baselines on the run's test split (the cases of ``recon eval``):

* **volume change**: per case, the predicted and true change of ventricle and brain volume
  (fixed segmentation, % of the baseline volume); their mean absolute error and their Pearson
  correlation across the test cases (``nan`` for no-change, whose prediction is constant);
* **atrophy map** (simulated data only, where the true deformation is known): the
  log-Jacobian of the predicted sampling field (:func:`recon_progression.warp.log_jacobian`;
  no-change: zero) against the true one, inside the baseline's head mask: the mean absolute
  difference and the Pearson correlation over the pixels, averaged over cases.

``--export-baseline FILE.nii.gz`` also writes the first AD test subject's baseline scan (2 mm
pixels, one axial slice) for ``recon predict`` examples.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recon_progression import data, simulate
from recon_progression.baselines import GROUP_MEAN, NO_CHANGE, _pick, group_mean_velocity
from recon_progression.metrics import volumes
from recon_progression.segment import segment
from recon_progression.warp import exp_field, log_jacobian


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


@torch.no_grad()
def report(cfg: Any, parts: Any, device: torch.device) -> dict[str, Any]:
    """The report's dictionary for the test split of ``cfg`` and the loaded ``parts``."""
    dataset = data.build(cfg, "test")
    simulated = data.is_simulated(cfg)
    mean_v = group_mean_velocity(cfg) if simulated else None
    cohort = data.cohort(cfg) if simulated else None
    methods = ("model", NO_CHANGE, GROUP_MEAN)
    changes: dict[str, dict[str, list[float]]] = {m: {"ventricle": [], "brain": []} for m in methods}
    truth: dict[str, list[float]] = {"ventricle": [], "brain": []}
    maps: dict[str, dict[str, list[float]]] = {m: {"mae": [], "corr": []} for m in methods}
    generator = parts.generator.eval()
    for index in range(len(dataset)):  # type: ignore[arg-type]
        item = dataset[index]
        batch = {k: v[None].to(device) for k, v in item.items() if isinstance(v, torch.Tensor)}
        base = item["input"][0].numpy()
        vb = volumes(base)
        vt = volumes(item["target"][0].numpy())
        for k, key in enumerate(("ventricle", "brain")):
            truth[key].append(100 * (vt[k] - vb[k]) / vb[k])
        fake, aux = parts.generate(generator, batch)
        preds = {"model": parts.postprocess(fake)[0, 0].cpu().numpy(), NO_CHANGE: base,
                 GROUP_MEAN: parts.baselines[GROUP_MEAN](batch)[0, 0].clamp(0, 1).cpu().numpy()}
        for m, pred in preds.items():
            vp = volumes(pred)
            for k, key in enumerate(("ventricle", "brain")):
                changes[m][key].append(100 * (vp[k] - vb[k]) / vb[k])
        if cohort is not None and mean_v is not None:
            s, years = int(item["subject"]), float(item["years"][0])
            true_map = log_jacobian(exp_field(cohort.velocity[s][None], years))[0, 0].numpy()
            head = segment(base).head
            fields = {"model": aux["field"].cpu(), NO_CHANGE: torch.zeros(1, 2, *base.shape),
                      GROUP_MEAN: exp_field(_pick(mean_v, batch["group"].cpu()), years)}
            for m, field in fields.items():
                pred_map = log_jacobian(field)[0, 0].numpy()
                maps[m]["mae"].append(float(np.abs(pred_map - true_map)[head].mean()))
                maps[m]["corr"].append(_pearson(pred_map[head], true_map[head]))
    out: dict[str, Any] = {"task": "mri_progression", "split": "test", "n_cases": len(truth["brain"]),
                           "source": str(cfg.data.source), "methods": {}}
    for m in methods:
        row: dict[str, float] = {}
        for key in ("ventricle", "brain"):
            pred, true = np.array(changes[m][key]), np.array(truth[key])
            row[f"{key}_change_mae"] = float(np.mean(np.abs(pred - true)))
            row[f"{key}_change_corr"] = _pearson(pred, true)
        if maps[m]["mae"]:
            row["atrophy_map_mae"] = float(np.mean(maps[m]["mae"]))
            row["atrophy_map_corr"] = float(np.nanmean(maps[m]["corr"])) if np.isfinite(maps[m]["corr"]).any() \
                else float("nan")
        out["methods"][m] = row
    out["true_change_mean_abs"] = {k: float(np.mean(np.abs(v))) for k, v in truth.items()}
    return out


def export_baseline(cfg: Any, path: Path) -> Path:
    """Write the first AD (else any) test subject's baseline scan as a one-slice NIfTI (2 mm)."""
    import nibabel as nib

    c = data.cohort(cfg)
    test = data.simulated_split(cfg, "test")
    ad = [s for s in test if int(c.group[s]) == 2] or test
    scan = simulate.visit(c.images[ad[0]], torch.Generator().manual_seed(0))[0].numpy()
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(scan[:, :, None].astype(np.float32), affine), str(path))
    return path


def _table(result: dict[str, Any]) -> str:
    keys = list(next(iter(result["methods"].values())))
    lines = ["method      " + "  ".join(f"{k:>20}" for k in keys)]
    for name, row in result["methods"].items():
        lines.append(f"{name:<10}  " + "  ".join(f"{row[k]:>20.4f}" for k in keys))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recon_progression.report", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--json", help="write the report as JSON here")
    parser.add_argument("--export-baseline", help="write a test subject's baseline scan (NIfTI) here")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    from recon.api import load_model

    if not Path(args.checkpoint).is_file():
        print(f"report: error: {args.checkpoint}: no such checkpoint", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    model = load_model(args.checkpoint, device=device)
    if args.export_baseline:
        print(f"wrote {export_baseline(model.cfg, Path(args.export_baseline))}")
    result = report(model.cfg, model.parts, device)
    print(_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
