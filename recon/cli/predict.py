"""``recon predict`` (conditional tasks) and ``recon generate`` (unconditional tasks).

``recon predict`` takes files, folders and globs: one input gives the ``-o`` file (or a file
of the same name in an existing ``-o`` folder); several give one output each, named as its
input, in the ``-o`` folder. A DICOM series folder is one input. Files named ``*_mask.*``
are hole masks (``--mask``), not inputs. An output is never written onto its input, and an
existing one only with ``--force``. One bad file is reported and skipped (exit code 2 at
the end, with the count), or stops everything with ``--strict``.
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

from recon.errors import DataError, UsageError

#: ``--set`` keys that would change the model or its geometry: refused on predict and eval
FROZEN_KEYS = ("data.scale", "data.axis", "data.orientation", "data.spacing", "data.normalize", "data.channels",
               "data.patch_size", "data.patch_width", "data.square")


def check_inference_overrides(overrides: list[str], command: str) -> None:
    """Refuse ``--set`` keys that change the trained model or the grid it works on (one line)."""
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        if key.startswith("model.") or key in FROZEN_KEYS:
            raise UsageError(f"--set {key}: `recon {command}` uses the model and geometry the checkpoint was "
                             f"trained with; {key} cannot change here (train another model to change it)")


def expand_inputs(arguments: list[str]) -> list[Path]:
    """Files, DICOM series folders, folders (searched recursively) and globs -> input paths."""
    from recon.data.readers import list_data_files

    paths: list[Path] = []
    for argument in arguments:
        matches = sorted(glob.glob(argument, recursive=True)) if glob.has_magic(argument) else [argument]
        if not matches:
            raise UsageError(f"{argument}: no file matches")
        for match in map(Path, matches):
            if not match.exists():
                raise UsageError(f"{match}: no such file or directory")
            found = list_data_files(match) if match.is_dir() else [match]
            paths += [p for p in found if not p.stem.lower().endswith("_mask") or p == match]
    if not paths:
        raise UsageError(f"{' '.join(arguments)}: no input files")
    return list(dict.fromkeys(paths))


def plan_outputs(inputs: list[Path], output: Path, force: bool) -> list[tuple[Path, Path]]:
    """``(input, output)`` pairs; refuses an output onto its input, or an existing one without ``force``."""
    several = len(inputs) > 1
    if several and output.exists() and not output.is_dir():
        raise UsageError(f"-o {output}: several inputs need an output folder, and this is a file")
    into_folder = several or output.is_dir()
    pairs = []
    for source in inputs:
        target = output / source.name if into_folder else output
        if target.resolve() == source.resolve() or source.resolve() in target.resolve().parents:
            raise UsageError(f"-o {target}: would write onto the input {source}; choose another output")
        if target.exists() and not force and not (target.is_dir() and not any(target.iterdir())):
            raise UsageError(f"-o {target}: already exists; pass --force to replace it")
        pairs.append((source, target))
    return pairs


def parse_years(text: str) -> list[float]:
    """``"3"`` or ``"0,1,2,5"`` -> intervals in years (numbers >= 0), refused in one line otherwise."""
    try:
        years = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--years {text}: give numbers of years, e.g. --years 3 or --years 0,1,2,5") from None
    if not years or any(not (t >= 0 and t != float("inf")) for t in years):
        raise UsageError(f"--years {text}: intervals must be numbers >= 0, e.g. --years 3 or --years 0,1,2,5")
    return years


def task_options(task: object, args: argparse.Namespace) -> dict[str, object]:
    """The task-specific options of ``recon predict`` (``--years``, ``--group``) as keyword arguments of
    ``task.predict_file``; refused in one line for a task whose ``predict_file`` does not take them."""
    import inspect

    given = {"years": getattr(args, "years", None), "group": getattr(args, "group", None)}
    accepted = inspect.signature(task.predict_file).parameters  # type: ignore[attr-defined]
    out: dict[str, object] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name not in accepted:
            raise UsageError(f"--{name}: task {task.name} does not take it "  # type: ignore[attr-defined]
                             f"(it predicts no follow-up in time)")
        out[name] = parse_years(value) if name == "years" else value
    if "group" in out and "years" not in out:
        raise UsageError("--group: give the interval too (--years)")
    if out and "force" in accepted:  # a task writing several files per input checks them itself
        out["force"] = bool(args.force)
    return out


def cmd_predict(args: argparse.Namespace) -> int:
    from recon.train.inference import load_model
    from recon.train.runtime import resolve_device

    inputs = expand_inputs(args.inputs)
    pairs = plan_outputs(inputs, Path(args.output), args.force)
    check_inference_overrides(args.overrides, "predict")
    device = resolve_device(args.device)
    model = load_model(args.checkpoint, device=device)
    task, cfg = model.task, model.cfg
    overrides = list(args.overrides)
    if args.mask:
        if not Path(args.mask).exists():
            raise UsageError(f"--mask {args.mask}: no such file or directory")
        if "mask" not in cfg.sections or not hasattr(cfg.mask, "file"):
            raise UsageError(f"--mask: task {task.name} takes no hole mask")
        overrides.append(f"mask.file={Path(args.mask).resolve()}")
    cfg.apply_overrides(overrides)
    extra = task_options(task, args)
    failed: list[str] = []
    written = 0
    progress = _progress(len(pairs))
    for source, target in pairs:
        try:
            out = task.predict_file(cfg, model.parts, source, target, device, **extra)
        except (DataError, UsageError) as exc:
            if args.strict or len(pairs) == 1:
                raise
            message = " ".join(str(exc).split())
            failed.append(message)
            print(f"recon: skipped {source}: {message}", file=sys.stderr)
        else:
            written += 1
            if progress is None:
                print(f"wrote {out}")
        if progress is not None:
            progress.update(1)
    if progress is not None:
        progress.close()
    if len(pairs) > 1:
        print(f"wrote {written} of {len(pairs)} outputs to {args.output}"
              + (f"; {len(failed)} failed (see above; --strict stops at the first)" if failed else ""))
    return 2 if failed else 0


def _progress(total: int):  # noqa: ANN202 - a tqdm bar or None
    if total < 2 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="predict", unit="file", file=sys.stderr)


def cmd_generate(args: argparse.Namespace) -> int:
    from recon.train.inference import load_model
    from recon.train.runtime import resolve_device

    if args.n < 1:
        raise UsageError("-n must be at least 1")
    device = resolve_device(args.device)
    model = load_model(args.checkpoint, device=device)
    task, cfg = model.task, model.cfg
    cfg.apply_overrides(args.overrides)
    label = getattr(args, "label", None)
    if label is None:
        paths = task.sample_file(cfg, model.parts, args.n, Path(args.output), device, seed=args.seed)
    else:
        import inspect

        if "label" not in inspect.signature(task.sample_file).parameters:
            raise UsageError(f"--label {label}: task {task.name} has no class labels")
        paths = task.sample_file(cfg, model.parts, args.n, Path(args.output), device, seed=args.seed,
                                 label=label)
    print(f"wrote {len(paths)} images to {args.output}")
    return 0
