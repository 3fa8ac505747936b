"""Fine-tuning: a new run whose networks start from another run's checkpoint, and frozen layers.

``recon run --init-from CKPT [--init-parts generator,discriminator]`` sets ``trainer.init_from``
(the resolved path) and ``trainer.init_parts``; the run records the file's sha256 in
``trainer.init_sha256`` (config.yaml and its checkpoints). Only the weights (and buffers) of
the named networks are taken: the run starts at step 0 with fresh optimizers, its own config
and preset; the EMA generator starts from the initialised generator. Every tensor name and
shape must match, else the run is refused in one line naming the mismatches: nothing is
loaded partially. ``--resume`` of such a run restores its own checkpoint and never reads the
parent again.

``model.freeze`` (any run): fnmatch patterns of the generator's parameter names whose
parameters get ``requires_grad=False`` and are left out of the optimizer.
"""

from __future__ import annotations

import hashlib
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import torch
from torch import nn

from recon.errors import CheckpointError, ConfigError

__all__ = ["check_init_options", "load_parent", "initialise", "trainable_parameters", "sha256_of"]

PARTS = ("generator", "discriminator")
_SHOWN = 3  # mismatching tensors named in a refusal; the rest are counted


def sha256_of(path: str | Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_init_options(cfg: Any) -> None:
    """Refuse ``trainer.init_*`` values that cannot work (before any work)."""
    t = cfg.trainer
    if not t.init_from:
        if t.init_sha256:
            raise ConfigError("trainer.init_sha256 is the recorded sha256 of trainer.init_from's checkpoint; "
                              "set trainer.init_from (--init-from CKPT) too, or leave it empty")
        return
    if not t.init_parts:
        raise ConfigError(f"trainer.init_parts is empty with --init-from {t.init_from}: name what to initialise "
                          "(--init-parts generator or generator,discriminator)")


def load_parent(cfg: Any) -> dict[str, Any]:
    """Load ``trainer.init_from``'s checkpoint safely (:func:`recon.train.checkpoint.load_checkpoint`:
    ``weights_only=True``, any task) and record its sha256 in ``trainer.init_sha256``; a recorded
    sha256 (a config.yaml of a fine-tuned run reused) that differs from the file's is refused.

    Raises:
        CheckpointError: missing, corrupt, unsafe or not a recon checkpoint (one line naming
            ``--init-from``), or another file than the recorded one.
    """
    from recon.train.checkpoint import load_checkpoint

    check_init_options(cfg)
    path = cfg.trainer.init_from = str(Path(cfg.trainer.init_from).resolve())  # as --init-from records it
    try:
        state = load_checkpoint(path)
    except CheckpointError as exc:
        raise CheckpointError(f"--init-from: {exc}") from None
    digest = sha256_of(path)
    recorded = cfg.trainer.init_sha256
    if recorded and recorded != digest:
        raise CheckpointError(f"--init-from {path}: its sha256 {digest[:12]}... differs from the recorded "
                              f"trainer.init_sha256 {recorded[:12]}... (the file changed since the config was "
                              "written); to fine-tune from this file: --set trainer.init_sha256=")
    cfg.trainer.init_sha256 = digest
    return state


def _shape(value: torch.Tensor) -> str:
    return str(tuple(value.shape))


def _mismatches(name: str, mine: dict[str, torch.Tensor], theirs: dict[str, Any]) -> tuple[list[str], int]:
    """``(first few descriptions, how many in all)`` of what differs between two state dicts."""
    shapes = [f"{key} {_shape(value)} vs {_shape(theirs[key])}" for key, value in mine.items()
              if key in theirs and tuple(value.shape) != tuple(theirs[key].shape)]
    missing = [key for key in mine if key not in theirs]
    unexpected = [key for key in theirs if key not in mine]
    problems = shapes + [f"{key} missing from the checkpoint" for key in missing] + \
        [f"{key} unexpected (not in this run's {name})" for key in unexpected]
    return problems, len(problems)


def initialise(trainer: Any, state: dict[str, Any] | None = None) -> None:
    """Copy the parent checkpoint's weights into ``trainer``'s networks (``trainer.init_parts``),
    then the EMA generator from the initialised generator; nothing is loaded unless every
    tensor of every part fits. ``state`` is the loaded parent (:func:`load_parent` when None).

    Raises:
        CheckpointError: one line naming the mismatching tensors (the first few, the rest
            counted) and the fix.
    """
    cfg = trainer.cfg
    if state is None:
        state = load_parent(cfg)
    path, parts = cfg.trainer.init_from, list(dict.fromkeys(cfg.trainer.init_parts))
    nets = state["nets"]
    targets: dict[str, nn.Module] = {}
    for part in parts:
        module = trainer.generator if part == "generator" else trainer.discriminator
        if module is None or part not in nets:
            if trainer.dist.is_main:
                whose = "this run" if module is None else f"the checkpoint (task {state['task']})"
                print(f"recon: note: --init-from: the {part} is not initialised: {whose} has none", flush=True)
            continue
        targets[part] = module
    problems: list[str] = []
    for part, module in targets.items():
        found, count = _mismatches(part, module.state_dict(), nets[part])
        if count:
            more = f"; {count - _SHOWN} more" if count > _SHOWN else ""
            problems.append(f"{part}: {', '.join(found[:_SHOWN])}{more}")
    if problems:
        fix = "fine-tune with the parent run's model.* settings (its config.yaml)"
        if "discriminator" in targets and not any(p.startswith("generator:") for p in problems):
            fix += ", or initialise the generator only: --init-parts generator"
        other = f" (task {state['task']})" if state["task"] != trainer.task.name else ""
        raise CheckpointError(f"--init-from {path}{other} does not fit this run's networks (this run's shape vs "
                              f"the checkpoint's): {'; '.join(problems)}; {fix}")
    with torch.no_grad():
        for part, module in targets.items():
            module.load_state_dict(nets[part])
    if trainer.ema is not None:
        trainer.ema.model.load_state_dict(trainer.generator.state_dict())


def trainable_parameters(generator: nn.Module, patterns: list[str]) -> list[nn.Parameter]:
    """The generator's parameters left to train: those matching a ``model.freeze`` pattern get
    ``requires_grad=False`` and are left out (all of them when ``patterns`` is empty).

    Raises:
        ConfigError: a pattern matching no parameter name, or patterns freezing every one.
    """
    if not patterns:
        return list(generator.parameters())
    named = list(generator.named_parameters())
    names = [name for name, _ in named]
    for pattern in patterns:
        if not any(fnmatchcase(name, pattern) for name in names):
            shown = ", ".join(names[:6]) + (f" ... ({len(names)} in all)" if len(names) > 6 else "")
            raise ConfigError(f"model.freeze: pattern '{pattern}' matches no parameter of the generator; "
                              f"its parameters: {shown}")
    frozen = {name for name in names if any(fnmatchcase(name, pattern) for pattern in patterns)}
    if len(frozen) == len(names):
        raise ConfigError(f"model.freeze={list(patterns)} freezes every parameter of the generator: "
                          "nothing left to train; freeze fewer layers")
    for name, param in named:
        if name in frozen:
            param.requires_grad_(False)
    return [param for name, param in named if name not in frozen]
