"""Config checks before any work (a bad value is exit 2, one line).

Ranges are declared on the fields (:func:`recon.config_ranges.ranged`, core's and the task's
sections alike) and checked here by :func:`recon.config_ranges.check_ranges`; this module adds
the checks across fields.

The config parser checks names and types; these check values the trainer divides by,
loops over or hands to torch (``trainer.log_every=0`` used to end a run with a
ZeroDivisionError, ``trainer.lr_g=-1`` with torch's ValueError and a traceback), and the
names that select something a plugin registered (``loss.gan_type``, ``model.g_network``,
``model.d_network``, ``eval.metrics``: :func:`check_selections`). The task's own sections
(``model.*``, ``mask.*`` ...) declare their ranges the same way; ``Task.validate`` checks
what depends on several fields.
"""

from __future__ import annotations

from typing import Any

from recon.config_ranges import check_ranges
from recon.errors import ConfigError


def check_config(cfg: Any, task: Any = None) -> None:
    """Refuse values that cannot work, naming the key and the range.

    Raises:
        ConfigError: a value out of range (or NaN), ``seed`` outside [0, 2**63), or
            ``trainer.betas`` outside [0, 1).
        UsageError: a registered name that does not exist or does not fit the task
            (:func:`check_selections`).
    """
    check_ranges(cfg.sections)
    if isinstance(cfg.seed, int) and not 0 <= cfg.seed < 2**63:
        raise ConfigError(f"seed={cfg.seed} is out of range (must be >= 0 and < 2**63)")
    trainer = cfg.sections.get("trainer")
    betas = getattr(trainer, "betas", None)
    if betas is not None and not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
        raise ConfigError(f"trainer.betas={list(betas)!r} must be two numbers in [0, 1)")
    loss = cfg.sections.get("loss")
    policy = getattr(loss, "d_augment", "")
    if policy:
        from recon.augment.select import parse_d_augment

        try:
            parse_d_augment(policy)
        except ValueError as exc:
            raise ConfigError(f"loss.d_augment: {exc}") from None
        if int(getattr(task, "spatial_dims", 2)) != 2:
            raise ConfigError(f"loss.d_augment={policy!r}: DiffAugment and ADA augment 2D images, and task "
                              f"{task.name} trains on volumes; leave loss.d_augment empty")
    if getattr(loss, "artifact", 0) > 0 and trainer is not None and not getattr(trainer, "ema_decay", 0) > 0:
        raise ConfigError("loss.artifact (LDL) compares with the EMA generator: set trainer.ema_decay > 0")
    data = cfg.sections.get("data")
    if data is not None and getattr(data, "val_fraction", 0) + getattr(data, "test_fraction", 0) >= 1:
        raise ConfigError("data.val_fraction + data.test_fraction must be below 1 (nothing left to train on)")
    check_selections(cfg, task)


def check_selections(cfg: Any, task: Any = None) -> None:
    """Refuse names of registered things that this run cannot use (one line, exit 2).

    ``loss.gan_type``: a registered adversarial loss; ``model.g_network`` /
    ``model.d_network``: a registered network of that role for this task (or ``""``);
    ``eval.metrics``: registered metrics, for a task scored by the paired evaluation
    (``task``, or the task ``cfg.task`` names, decides: unconditional tasks are refused).
    """
    loss = cfg.sections.get("loss")
    if loss is not None:
        from recon.losses import adversarial_loss

        adversarial_loss(loss.gan_type)
    if "model" in cfg.sections:
        from recon.train.networks import check_networks

        check_networks(cfg)
    check_eval_metrics(cfg, task)


def check_eval_metrics(cfg: Any, task: Any = None) -> None:
    """Refuse unknown names in ``eval.metrics``, and any for an unconditional task (``task``,
    or the one ``cfg.task`` names): registered metrics score paired predictions."""
    from recon.plugins import get_plugin_system, get_task

    names = list(getattr(cfg.sections.get("eval"), "metrics", None) or [])
    if not names:
        return
    metrics = get_plugin_system().registry("metrics")
    for name in names:
        metrics.get(name, key="eval.metrics")
    if task is None:
        task = get_task(cfg.task)
    if getattr(task, "unconditional", False):
        raise ConfigError(f"eval.metrics={names}: task {cfg.task} is unconditional (scored by FID/KID on "
                          "samples); registered metrics compare a prediction with its target and apply "
                          "to paired tasks only")
