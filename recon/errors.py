"""Exception types that map to the CLI's exit codes.

``UsageError`` (and subclasses) is bad usage or bad input: the CLI prints its message as one
line on stderr and exits with code 2. Any other exception is an internal error (exit 1).
"""

from __future__ import annotations


class ReconError(Exception):
    """Base class of recon's own exceptions."""


class UsageError(ReconError):
    """Bad usage or bad input: exit code 2 with one clear line."""


class ConfigError(UsageError):
    """An unknown config key, a value of the wrong type, an unknown preset."""


class DataError(UsageError):
    """Input data that is missing, empty, corrupt or of the wrong shape."""


class CheckpointError(UsageError):
    """A checkpoint that is not ours, unsafe, truncated, or from another task."""


class WeightsUnavailableError(UsageError):
    """Pretrained weights (LPIPS backbone, Inception) that are not on this machine."""


class PluginError(ReconError):
    """A plugin failed while building something it registered (exit 1, one line)."""
