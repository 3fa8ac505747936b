"""Typed run configuration: dataclass sections, YAML on disk, dotted ``--set`` overrides.

A run's config is ``task``, ``seed``, ``device``, ``preset`` plus one dataclass per section
(``trainer``, ``data``, ``model``, ``loss``, ``eval`` and any a task adds, such as ``mask``).
Tasks choose the dataclass of each section (subclasses of the core ones). Values are
resolved in order: dataclass defaults, the preset, a YAML file, then ``--set a.b=c``.
Unknown keys are rejected with the valid names and the closest match.

A task may change the default of a key core defines (``loss.gan_type``...), not its type:
values of core's keys are checked against core's annotation. Names that select something a
plugin registered (``loss.gan_type``, ``model.g_network``, ``model.d_network``,
``eval.metrics``) are plain strings here and are checked against the registries before any
work (:mod:`recon.train.config_checks`).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from recon.config_ranges import check_value, ranged
from recon.errors import ConfigError
from recon.registry import closest_hint

Precision = Literal["fp32", "bf16", "fp16"]


@dataclass
class TrainerConfig:
    """The GAN trainer: phases, schedule, precision, checkpoints, logging."""

    max_steps: int = ranged(1000, ge=0)
    batch_size: int = ranged(16, ge=1)
    grad_accum: int = ranged(1, ge=1)  # micro-batches per optimizer step (effective batch = batch_size)
    lr_g: float = ranged(1e-4, gt=0)
    lr_d: float = ranged(1e-4, gt=0)
    betas: tuple[float, float] = (0.9, 0.99)
    lr_schedule: Literal["constant", "cosine", "step"] = "constant"
    d_steps: int = ranged(1, ge=0)  # discriminator steps per generator step
    # one G forward serves D's last update and G's update of an adversarial step where that
    # gives identical results (recon.train.shared_forward); false: G runs in each phase
    reuse_fake: bool = True
    d_warmup_steps: int = ranged(0, ge=0)  # generator-only (content loss) steps before the adversarial game
    ema_decay: float = ranged(0.999, ge=0, le=1)  # 0 disables the EMA generator
    ema_start: int = ranged(0, ge=0)
    precision: Precision = "fp32"
    compile: bool = False
    channels_last: bool = True  # NHWC memory layout for 2D networks and batches (CPU and CUDA)
    grad_clip: float = ranged(0.0, ge=0)
    nan_policy: Literal["rollback", "skip", "stop"] = "rollback"
    max_rollbacks: int = ranged(3, ge=0)
    checkpoint_every: int = ranged(500, ge=0)
    eval_every: int = ranged(500, ge=0)
    log_every: int = ranged(10, ge=1)
    sample_every: int = ranged(500, ge=0)
    num_workers: int = ranged(0, ge=0, le=256)
    threads: int = ranged(0, ge=0, le=4096)  # torch CPU threads (0: torch's default, one per core)
    # CPU: train with subnormal floats (|x| < 1.2e-38) as zero (torch.set_flush_denormal, x86 FTZ/DAZ);
    # arithmetic on them is many times slower, and GAN weights can drift into that range
    flush_denormal: bool = True
    progress: bool = True
    # fine-tuning (``recon run --init-from``): the parent checkpoint a new run's networks start from
    # (resolved path, "" = none), which of them, and the file's sha256 (recorded by the run)
    init_from: str = ""
    init_parts: list[Literal["generator", "discriminator"]] = field(
        default_factory=lambda: ["generator", "discriminator"])
    init_sha256: str = ""


@dataclass
class DataConfig:
    """Where the data comes from; tasks subclass it with their own fields."""

    source: str = ""  # a built-in source name or a path (``--data`` sets it)
    patch_size: int = ranged(64, ge=0)
    val_fraction: float = ranged(0.15, ge=0, lt=1)
    test_fraction: float = ranged(0.2, ge=0, lt=1)
    gap: int = ranged(8, ge=0)  # slices left out between splits of a single volume
    skip_bad: bool = False
    cache_dir: str = ""
    holdout: bool = True  # false: every image is evaluation data (``recon eval --data``)
    # where training inputs are measured: in the DataLoader (cpu), or batched on the training device
    # after the clean patches and operator parameters are moved there (device; recon.train.device_simulation)
    simulate_on: Literal["cpu", "device"] = "cpu"


@dataclass
class LossConfig:
    """Loss weights; ``adversarial`` is the weight of the generator's adversarial term."""

    gan_type: str = "ns"  # a registered adversarial loss (register_losses), checked before training
    adversarial: float = ranged(1e-3, ge=0)
    l1: float = ranged(1.0, ge=0)
    l2: float = ranged(0.0, ge=0)
    perceptual: float = ranged(0.0, ge=0)  # ST-LPIPS content loss (weights shipped in the stlpips-pytorch wheel)
    perceptual_net: Literal["alex", "vgg"] = "alex"  # vgg: SRGAN's VGG feature loss, shift-tolerant
    artifact: float = ranged(0.0, ge=0)  # LDL artifact loss (Liang et al. 2022) against the EMA generator
    # augmentation of every D input: a DiffAugment policy ("translation,cutout"), "ada" or "ada:PRESET"
    # (adaptive, presets b, g, c, bg, bgc), "" = none
    d_augment: str = ""
    ada_target: float = ranged(0.6, gt=0, lt=1)  # d_augment=ada: the r_t = E[sign(D(real))] that p steers to
    ada_speed_kimg: float = ranged(20.0, gt=0, lt=math.inf)  # d_augment=ada: thousand images for p to move by 1
    r1_gamma: float = ranged(0.0, ge=0)
    reg_interval: int = ranged(16, ge=1)  # lazy regularization: R1/GP every N discriminator steps
    g_reg_interval: int = ranged(4, ge=1)  # lazy generator regularization (path length) every N steps
    gp_weight: float = ranged(10.0, ge=0)


@dataclass
class ModelConfig:
    """Network hyper-parameters; tasks subclass it.

    ``g_network`` / ``d_network`` select a network registered through ``register_networks``
    (with role generator / discriminator) in place of the task's own; ``""`` keeps the task's.
    ``freeze``: fnmatch patterns of the generator's parameter names (``["head.*", "body.0.*"]``)
    left out of training (``requires_grad=False``, not in the optimizer).
    ``d_spectral_norm``: spectrally normalise every convolution and linear layer of the
    discriminator, the task's or the registered one (:func:`recon.nets.apply_spectral_norm`).
    """

    g_network: str = ""
    d_network: str = ""
    freeze: list[str] = field(default_factory=list)
    d_spectral_norm: bool = False


@dataclass
class EvalConfig:
    """Evaluation on the validation / test split."""

    batch_size: int = ranged(8, ge=1)
    max_images: int = ranged(0, ge=0)  # 0 = all
    lpips: bool = True  # computed only when the LPIPS backbone weights exist
    st_lpips: bool = True  # shift-tolerant LPIPS (offline weights), paired tasks
    patch_kid: bool = True  # kid_patch / fid_patch on the final test evaluation (InceptionV3)
    patch_size: int = ranged(64, ge=32)  # crop side of the patch KID/FID convention
    patch_count: int = ranged(200, ge=2)  # crops per method (the same crops for every method and the target)
    patch_seed: int = 0
    compare_checkpoint: str = ""  # a second checkpoint (e.g. non-adversarial) reported as a baseline
    compare_label: str = ""  # its row's name ("" = "non-adversarial" when it is, else "compare (<gan_type>)")
    metrics: list[str] = field(default_factory=list)  # registered metrics added to the paired evaluation


@dataclass
class GenerativeEvalConfig(EvalConfig):
    """Evaluation of an unconditional task: FID / KID / IS of generated samples against the
    split's real images (:mod:`recon.generative_eval`); the paired-only metrics are off."""

    lpips: bool = False  # no paired images
    st_lpips: bool = False
    patch_kid: bool = False
    fid: bool = True  # false: skip the Inception metrics (noted in eval.json's conventions)
    n_samples: int = ranged(1000, ge=2)  # generated samples scored on the test split (`recon eval`, end of run)
    val_samples: int = ranged(200, ge=2)  # generated samples scored on the validation split
    kid_subsets: int = ranged(100, ge=1)
    kid_subset_size: int = ranged(1000, ge=2)  # capped by the number of real and generated samples
    inception_weights: str = ""  # "" = auto; pt_inception | fid_helper | a file path
    baselines: bool = True  # score the task's sample baselines (Parts.sample_baselines)
    # anatomical plausibility (recon.metrics.anatomy: tissue fractions, brain and ventricle size);
    # null = auto: on when data.source is the built-in brain (mni152, mni152:<contrast>) in one contrast
    anatomy: bool | None = None
    # tissue intensity order of the images: t1 (CSF < GM < WM), t2 / pd (WM < GM < CSF);
    # auto: the mni152 source's contrast, else t1
    anatomy_contrast: Literal["auto", "t1", "t2", "pd"] = "auto"


CORE_SECTIONS: dict[str, type] = {
    "trainer": TrainerConfig,
    "data": DataConfig,
    "model": ModelConfig,
    "loss": LossConfig,
    "eval": EvalConfig,
}
TOP_LEVEL: dict[str, type] = {"task": str, "seed": int, "device": str, "preset": str}


@dataclass
class RunConfig:
    """A resolved configuration: top-level keys plus one dataclass instance per section."""

    task: str
    seed: int = 0
    device: str = "auto"
    preset: str = "default"
    sections: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        sections = self.__dict__.get("sections", {})
        if name in sections:
            return sections[name]
        raise AttributeError(name)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in TOP_LEVEL}
        for name, section in self.sections.items():
            out[name] = {f.name: _plain(getattr(section, f.name)) for f in fields(section)}
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def valid_keys(self) -> list[str]:
        keys = list(TOP_LEVEL)
        for name, section in self.sections.items():
            keys += [f"{name}.{f.name}" for f in fields(section)]
        return keys

    # -- updates ------------------------------------------------------------------------
    def set(self, key: str, value: Any) -> None:
        """Set a dotted key (``trainer.max_steps``) to ``value``, checking name, type and the
        range declared on the field (:func:`recon.config_ranges.ranged`)."""
        parts = key.split(".")
        if len(parts) == 1 and parts[0] in TOP_LEVEL:
            setattr(self, parts[0], _coerce(key, value, TOP_LEVEL[parts[0]]))
            return
        if len(parts) != 2 or parts[0] not in self.sections:
            raise ConfigError(_unknown(key, self.valid_keys()))
        section = self.sections[parts[0]]
        hints = typing.get_type_hints(type(section))
        if parts[1] not in hints or parts[1] not in {f.name for f in fields(section)}:
            moved = getattr(type(section), "moved_keys", {}).get(parts[1])
            if moved:  # a key a section had and no longer has says where it went
                raise ConfigError(f"{key} is no longer a config key: {moved}")
            raise ConfigError(_unknown(key, self.valid_keys()))
        core = CORE_SECTIONS.get(parts[0])
        if core is not None and isinstance(section, core) and parts[1] in {f.name for f in fields(core)}:
            hints = typing.get_type_hints(core)  # core reads this key: core's type holds
        coerced = _coerce(key, value, hints[parts[1]])
        check_value(key, type(section), parts[1], coerced)
        setattr(section, parts[1], coerced)

    def update(self, nested: dict[str, Any], origin: str = "config") -> None:
        """Apply a nested mapping ``{section: {key: value}}`` (a preset or a YAML file)."""
        if not isinstance(nested, dict):
            raise ConfigError(f"{origin}: expected a mapping of sections, got {type(nested).__name__}")
        for name, value in nested.items():
            if name in TOP_LEVEL:
                self.set(name, value)
            elif isinstance(value, dict) and name in self.sections:
                for key, item in value.items():
                    self.set(f"{name}.{key}", item)
            elif name in self.sections:
                raise ConfigError(f"{origin}: section '{name}' must be a mapping")
            else:
                raise ConfigError(f"{origin}: " + _unknown(str(name), list(TOP_LEVEL) + list(self.sections)))

    def apply_overrides(self, overrides: list[str]) -> None:
        """Apply ``--set key=value`` strings; values are parsed as YAML scalars/lists."""
        for item in overrides:
            if "=" not in item:
                raise ConfigError(f"--set expects key=value, got '{item}'")
            key, raw = item.split("=", 1)
            try:
                value = yaml.safe_load(raw) if raw != "" else ""
            except yaml.YAMLError:
                value = raw
            self.set(key.strip(), value)

    def copy(self) -> "RunConfig":
        return RunConfig(
            self.task, self.seed, self.device, self.preset,
            {k: dataclasses.replace(v) for k, v in self.sections.items()},
        )


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _unknown(key: str, valid: list[str]) -> str:
    return f"unknown config key '{key}'{closest_hint(key, valid)}; valid keys: {', '.join(valid)}"


def _coerce(key: str, value: Any, kind: Any) -> Any:
    """Check ``value`` against the annotation ``kind``; convert where unambiguous."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(key, value, arg)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: invalid value {value!r}")
    if origin is Literal:
        if value not in args:
            choices = ", ".join(map(str, args))
            hint = closest_hint(str(value), [str(a) for a in args])
            raise ConfigError(f"{key}: '{value}' is not one of {choices}{hint}")
        return value
    if origin is list and isinstance(value, str):
        value = [value] if value else []  # --set eval.metrics=name: a list of one
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        inner = [a for a in args if a is not Ellipsis] or [Any]
        if origin is tuple and Ellipsis not in args and len(args) != len(value):
            raise ConfigError(f"{key}: expected {len(args)} values, got {len(value)}")
        items = [_coerce(key, v, inner[i] if i < len(inner) and Ellipsis not in args else inner[0])
                 for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if kind is Any:
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)  # YAML 1.1 reads '1e-3' as a string
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if kind is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return "" if value is None else str(value)
    if isinstance(kind, type) and is_dataclass(kind):
        raise ConfigError(f"{key}: is a section, not a value")
    return value


def build_config(task: Any, preset: str | None = None, *, config_file: str | Path | None = None,
                 overrides: list[str] | None = None, seed: int | None = None,
                 device: str | None = None) -> RunConfig:
    """Resolve a task's config: defaults, preset, YAML file, then ``--set`` overrides.

    ``preset=None`` takes the file's top-level ``preset:`` (else ``default``); a file whose
    ``task:`` names another task is refused (:func:`file_choices`)."""
    data = load_yaml(config_file) if config_file is not None else None
    if data is not None:
        file_task, file_preset = file_choices(data, config_file or "")
        if file_task is not None and file_task != task.name:
            raise ConfigError(f"--config {config_file}: its task: {file_task} differs from --task {task.name}; "
                              f"pass --task {file_task}, or change or remove task: in the file")
        preset = preset or file_preset
    preset = preset or "default"
    sections = dict(CORE_SECTIONS)
    sections.update(task.config_sections())
    cfg = RunConfig(task=task.name, preset=preset, sections={k: v() for k, v in sections.items()})
    presets = task.presets()
    if preset not in presets:
        raise ConfigError(
            f"unknown preset '{preset}' for task {task.name}{closest_hint(preset, list(presets))}; "
            f"valid: {', '.join(presets)}"
        )
    cfg.update(presets[preset], origin=f"preset {preset}")
    if data is not None:
        cfg.update(data, origin=str(config_file))
        cfg.task, cfg.preset = task.name, preset
    cfg.apply_overrides(overrides or [])
    if seed is not None:
        cfg.seed = seed
    if device is not None:
        cfg.device = device
    return cfg


def file_choices(data: dict[str, Any], origin: str | Path) -> tuple[str | None, str | None]:
    """The top-level ``task:`` and ``preset:`` of a config file's mapping (``None`` when absent)."""
    out: list[str | None] = []
    for key in ("task", "preset"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{origin}: {key}: expected a name, got {value!r}")
        out.append(value or None)
    return out[0], out[1]


def resolve_preset(preset: str | None, config_file: str | Path | None) -> str | None:
    """The preset a command asked for: ``--preset``, else the ``preset:`` of its ``--config``
    file (``None``: neither, the task's ``default``). A file's ``preset:`` that differs from
    an explicit ``--preset`` is refused (ConfigError)."""
    if config_file is None:
        return preset
    _, file_preset = file_choices(load_yaml(config_file), config_file)
    if preset is not None and file_preset is not None and file_preset != preset:
        raise ConfigError(f"--config {config_file}: its preset: {file_preset} differs from --preset {preset}; "
                          "drop one of them")
    return preset or file_preset


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; a missing or malformed file is a ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def config_from_dict(task: Any, data: dict[str, Any]) -> RunConfig:
    """Rebuild a RunConfig saved with :meth:`RunConfig.to_dict` (e.g. from a checkpoint)."""
    sections = dict(CORE_SECTIONS)
    sections.update(task.config_sections())
    cfg = RunConfig(task=task.name, sections={k: v() for k, v in sections.items()})
    cfg.update(data, origin="saved config")
    return cfg
