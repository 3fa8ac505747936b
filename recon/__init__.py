"""recon: a plugin-based PyTorch framework for image reconstruction with adversarial losses.

Importing ``recon`` is cheap: it does not import torch. Plugins implement the hooks in
:mod:`recon.hookspecs` with the :data:`hookimpl` marker re-exported here.
"""

from recon.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["hookimpl", "__version__"]
