"""Which tasks the suite benchmarks, and how: discovered from the plugin registry.

Every task registered through the ``recon`` entry-point group is in the quality suite by
default, trained with its ``default`` preset (``smoke`` under ``--smoke``). A task, built-in
or third-party, changes that in one of two ways (the registration wins where both exist):

1. a ``benchmark`` attribute on its :class:`recon.task.Task` subclass::

       class MyTask(Task):
           benchmark = {"preset": "default", "overrides": ["data.scale=4"]}

2. a ``benchmark`` keyword at registration (no import of the task module needed)::

       register("my_task", factory, description="...", benchmark=False)

The value is ``False`` (leave the task out), ``True``/``None`` (the defaults), or a mapping
with the fields of :class:`BenchmarkSpec`. Several variants of one task (the k-space task
at 4x and 8x) are a list of mappings, each with its own ``label``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from recon.errors import UsageError


@dataclass
class BenchmarkSpec:
    """How the quality suite runs one task (or one variant of it).

    Attributes:
        label: name of the variant in the tables (default: the task name).
        preset: preset of the full benchmark.
        smoke_preset: preset under ``--smoke``.
        overrides: extra ``--set key=value`` strings for every run of the task.
        seed: the run seed.
        non_adversarial: also train the same generator with ``loss.adversarial=0`` and report
            it beside the adversarial model (``None``: whenever the task has a discriminator).
        speed: run the speed suite (trainer vs plain loop, MONAI, BasicSR; syncs, FLOP/s, data) on it.
        timeout_min: kill a run that takes longer than this (minutes).
        sweep: adversarial weights of the perception-distortion sweep (``--suite tradeoff``):
            the same generator trained at each ``loss.adversarial`` value with the same seed
            and steps. Must hold 0 (the non-adversarial twin) and at least three other
            weights; ``None``: no sweep (unconditional tasks, variants not worth sweeping).
        parent: a fine-tuning row (:mod:`benchmarks.finetune`): the run it starts from, as a
            mapping ``{"overrides": [...], "preset": ..., "init_parts": [...]}`` (preset: this
            spec's; init_parts: generator and discriminator). The suite trains that parent,
            then this variant from scratch and initialised from the parent's last checkpoint
            (``trainer.init_from``), the same steps and seed, and reports the two side by side;
            ``None``: an ordinary row.
    """

    label: str = ""
    preset: str = "default"
    smoke_preset: str = "smoke"
    overrides: list[str] = field(default_factory=list)
    seed: int = 0
    non_adversarial: bool | None = None
    speed: bool = False
    timeout_min: float = 45.0
    sweep: list[float] | None = None
    parent: dict[str, Any] | None = None


PARENT_FIELDS = ("overrides", "preset", "init_parts")
INIT_PARTS = ("generator", "discriminator")


@dataclass
class TaskEntry:
    """A registered task with its benchmark variants (empty: opted out)."""

    name: str
    plugin: str
    description: str
    specs: list[BenchmarkSpec]


def parse_spec(task: str, value: Any) -> list[BenchmarkSpec]:
    """Turn a ``benchmark`` declaration into specs; ``[]`` means the task opted out."""
    if value is False:
        return []
    if value is None or value is True:
        return [BenchmarkSpec(label=task)]
    items = value if isinstance(value, (list, tuple)) else [value]
    names = {f.name for f in dataclasses.fields(BenchmarkSpec)}
    specs = []
    for item in items:
        if isinstance(item, BenchmarkSpec):
            spec = dataclasses.replace(item)
        elif isinstance(item, dict):
            unknown = sorted(set(item) - names)
            if unknown:
                raise UsageError(f"task {task}: unknown benchmark field(s) {', '.join(unknown)}; "
                                 f"valid: {', '.join(sorted(names))}")
            spec = BenchmarkSpec(**{**item, "overrides": list(item.get("overrides", []))})
        else:
            raise UsageError(f"task {task}: benchmark must be a bool, a mapping or a list of mappings, "
                             f"got {type(item).__name__}")
        spec.label = spec.label or task
        spec.sweep = _check_sweep(task, spec.sweep)
        spec.parent = _check_parent(task, spec)
        specs.append(spec)
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise UsageError(f"task {task}: benchmark variants need distinct labels, got {labels}")
    return specs


def _check_sweep(task: str, sweep: Any) -> list[float] | None:
    """The sweep as sorted distinct floats; UsageError unless it holds 0 and three other weights."""
    if sweep is None:
        return None
    if isinstance(sweep, (str, bytes)) or not isinstance(sweep, (list, tuple)):
        raise UsageError(f"task {task}: benchmark sweep must be a list of adversarial weights, "
                         f"got {type(sweep).__name__}")
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0 for w in sweep):
        raise UsageError(f"task {task}: benchmark sweep weights must be numbers >= 0, got {list(sweep)}")
    weights = sorted({float(w) for w in sweep})
    if 0.0 not in weights or len(weights) < 4:
        raise UsageError(f"task {task}: benchmark sweep needs 0 (the non-adversarial twin) and at least "
                         f"three other weights, got {list(sweep)}")
    return weights


def _check_parent(task: str, spec: BenchmarkSpec) -> dict[str, Any] | None:
    """The parent run with its defaults filled in; UsageError for what cannot be a fine-tuning row."""
    parent = spec.parent
    if parent is None:
        return None
    if not isinstance(parent, dict):
        raise UsageError(f"task {task}: benchmark parent must be a mapping of {', '.join(PARENT_FIELDS)}, "
                         f"got {type(parent).__name__}")
    unknown = sorted(set(parent) - set(PARENT_FIELDS))
    if unknown:
        raise UsageError(f"task {task}: unknown benchmark parent field(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(PARENT_FIELDS)}")
    parts = list(parent.get("init_parts", INIT_PARTS))
    if not parts or any(part not in INIT_PARTS for part in parts):
        raise UsageError(f"task {task}: benchmark parent init_parts must name {' and/or '.join(INIT_PARTS)}, "
                         f"got {parts}")
    if spec.sweep is not None or spec.non_adversarial:
        raise UsageError(f"task {task}: a fine-tuning row (benchmark parent) is compared with the same run "
                         "from scratch; it takes no sweep and no non-adversarial twin")
    return {"overrides": [str(item) for item in parent.get("overrides", [])],
            "preset": str(parent.get("preset", spec.preset)), "init_parts": parts}


def _declaration(entry: Any) -> Any:
    """The registration's ``benchmark`` extra, else the task's ``benchmark`` attribute."""
    if "benchmark" in entry.extra:
        return entry.extra["benchmark"]
    try:
        task = entry.factory()
    except Exception:  # noqa: BLE001 - a task that cannot be built fails in its own run
        return None
    return getattr(task, "benchmark", None)


def _variant_owner(registry: Any, label: str) -> tuple[str, BenchmarkSpec] | None:
    """(task name, spec) of the registered variant labelled ``label`` that is not a task name itself."""
    for name in registry.names():
        try:
            specs = parse_spec(name, _declaration(registry.get(name)))
        except UsageError:  # another task's broken declaration is reported when that task is run
            continue
        for spec in specs:
            if spec.label == label and label != name:
                return name, spec
    return None


def discover(selected: list[str] | None = None) -> list[TaskEntry]:
    """Registered tasks (all, or those in ``selected``, in that order) with their specs.

    A name in ``selected`` is one variant's label (``mri_kspace_4x``: that variant only; a
    task whose default variant carries the task's own name, such as ``mri_superres`` beside
    ``mri_superres_no_augment``, is selected by that name as that variant only) or else a task
    (every variant of it: ``mri_kspace``). Unknown names raise UsageError listing the
    registered tasks.
    """
    from recon.plugins import get_plugin_system

    registry = get_plugin_system().tasks
    registered = set(registry.names())
    names = registry.names() if not selected else selected
    entries = []
    for name in names:
        variant = _variant_owner(registry, name) if name not in registered else None
        if variant is not None:
            task_name, spec = variant
            entry = registry.get(task_name)
            entries.append(TaskEntry(task_name, entry.plugin, entry.description, [spec]))
            continue
        entry = registry.get(name)  # UsageError with the valid names and the closest match
        specs = parse_spec(name, _declaration(entry))
        if selected and len(specs) > 1 and any(s.label == name for s in specs):
            specs = [s for s in specs if s.label == name]  # the label named, not its siblings
        if selected and not specs:
            specs = [BenchmarkSpec(label=name)]  # asked for by name: run it anyway
        entries.append(TaskEntry(name, entry.plugin, entry.description, specs))
    return entries


def default_speed_tasks(entries: list[TaskEntry]) -> list[str]:
    """Tasks the speed suite measures: those whose spec asks for it, else ``mri_superres``."""
    wanted = [e.name for e in entries if any(s.speed for s in e.specs)]
    if wanted:
        return wanted
    names = [e.name for e in entries]
    return ["mri_superres"] if "mri_superres" in names else names[:1]
