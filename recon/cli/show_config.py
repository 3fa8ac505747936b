"""``recon config``: print the fully resolved config of a task and preset as YAML.

The same resolution ``recon run`` uses (task defaults, preset, ``--config`` file, ``--set``
overrides, seed, device) and the same checks, without training: the printed YAML can be
saved, edited and passed back with ``recon run --config``.
"""

from __future__ import annotations

import argparse
import sys


def cmd_config(args: argparse.Namespace) -> int:
    from recon.config import build_config, resolve_preset
    from recon.plugins import get_task
    from recon.train.config_checks import check_config

    task = get_task(args.task)
    cfg = build_config(task, resolve_preset(args.preset, args.config), config_file=args.config,
                       overrides=args.overrides, seed=args.seed, device=args.device)
    check_config(cfg)
    sys.stdout.write(cfg.to_yaml())
    return 0
