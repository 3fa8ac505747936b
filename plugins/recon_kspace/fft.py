"""Compatibility alias of :mod:`recon.physics.fft`, the repository's one centred FFT.

The transforms and the complex <-> 2-channel helpers live in core (``recon.physics``); this
module only re-exports them under their old import path. New code imports ``recon.physics``.
"""

from __future__ import annotations

from recon.physics.fft import *  # noqa: F401,F403 - the re-export is the point
from recon.physics.fft import __all__  # noqa: F401
