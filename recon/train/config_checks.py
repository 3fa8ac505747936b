"""Range checks of the core config sections, before any work (a bad value is exit 2).

The config parser checks names and types; these check values the trainer divides by,
loops over or hands to torch (``trainer.log_every=0`` used to end a run with a
ZeroDivisionError, ``trainer.lr_g=-1`` with torch's ValueError and a traceback), and the
names that select something a plugin registered (``loss.gan_type``, ``model.g_network``,
``model.d_network``, ``eval.metrics``: :func:`check_selections`). The task's own sections
(``model.*``, ``mask.*`` ...) are checked by ``Task.validate``.
"""

from __future__ import annotations

import math
from typing import Any

from recon.errors import ConfigError

#: key -> (lowest allowed, highest allowed, lowest included?)
_RANGES: dict[str, tuple[float, float, bool]] = {
    "trainer.max_steps": (0, math.inf, True),
    "trainer.batch_size": (1, math.inf, True),
    "trainer.grad_accum": (1, math.inf, True),
    "trainer.lr_g": (0, math.inf, False),
    "trainer.lr_d": (0, math.inf, False),
    "trainer.d_steps": (0, math.inf, True),
    "trainer.d_warmup_steps": (0, math.inf, True),
    "trainer.ema_decay": (0, 1, True),
    "trainer.ema_start": (0, math.inf, True),
    "trainer.grad_clip": (0, math.inf, True),
    "trainer.max_rollbacks": (0, math.inf, True),
    "trainer.checkpoint_every": (0, math.inf, True),
    "trainer.eval_every": (0, math.inf, True),
    "trainer.log_every": (1, math.inf, True),
    "trainer.sample_every": (0, math.inf, True),
    "trainer.num_workers": (0, 256, True),
    "loss.adversarial": (0, math.inf, True),
    "loss.l1": (0, math.inf, True),
    "loss.l2": (0, math.inf, True),
    "loss.perceptual": (0, math.inf, True),
    "loss.artifact": (0, math.inf, True),
    "loss.r1_gamma": (0, math.inf, True),
    "loss.reg_interval": (1, math.inf, True),
    "loss.g_reg_interval": (1, math.inf, True),
    "trainer.threads": (0, 4096, True),
    "loss.gp_weight": (0, math.inf, True),
    "data.patch_size": (0, math.inf, True),  # 0: whole images, where a task supports it
    "data.val_fraction": (0, 1, True),
    "data.test_fraction": (0, 1, True),
    "data.gap": (0, math.inf, True),
    "eval.batch_size": (1, math.inf, True),
    "eval.max_images": (0, math.inf, True),
    "eval.patch_size": (32, math.inf, True),  # ST-LPIPS and Inception need 32 px at least
    "eval.patch_count": (2, math.inf, True),
}


def _lookup(cfg: Any, key: str) -> Any:
    section, _, name = key.partition(".")
    return getattr(cfg.sections.get(section), name, None) if section in cfg.sections else None


def check_config(cfg: Any, task: Any = None) -> None:
    """Refuse values of the core sections that cannot work, naming the key and the range.

    Raises:
        ConfigError: a value out of range (or NaN), ``seed`` outside [0, 2**63), or
            ``trainer.betas`` outside [0, 1).
        UsageError: a registered name that does not exist or does not fit the task
            (:func:`check_selections`).
    """
    for key, (low, high, low_included) in _RANGES.items():
        value = _lookup(cfg, key)
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        below = value < low if low_included else value <= low
        if math.isnan(value) or below or value > high or (high == 1 and key.endswith("fraction") and value >= 1):
            bound = f"{'>=' if low_included else '>'} {low:g}" + (f" and <= {high:g}" if high != math.inf else "")
            raise ConfigError(f"{key}={value!r} is out of range (must be {bound})")
    if isinstance(cfg.seed, int) and not 0 <= cfg.seed < 2**63:
        raise ConfigError(f"seed={cfg.seed} is out of range (must be >= 0 and < 2**63)")
    trainer = cfg.sections.get("trainer")
    betas = getattr(trainer, "betas", None)
    if betas is not None and not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
        raise ConfigError(f"trainer.betas={list(betas)!r} must be two numbers in [0, 1)")
    loss = cfg.sections.get("loss")
    policy = getattr(loss, "d_augment", "")
    if policy:
        from recon.augment.diffaugment import parse_policy

        try:
            parse_policy(policy)
        except ValueError as exc:
            raise ConfigError(f"loss.d_augment: {exc}") from None
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
