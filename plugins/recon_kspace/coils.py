"""Compatibility alias of :mod:`recon.physics.coils`: simulated coil maps, RSS and SENSE
combination/expansion live in core; this module only re-exports them under their old import
path. New code imports ``recon.physics``.
"""

from __future__ import annotations

from recon.physics.coils import *  # noqa: F401,F403 - the re-export is the point
from recon.physics.coils import __all__  # noqa: F401
