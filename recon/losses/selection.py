"""The adversarial loss a run selects: ``loss.gan_type`` names an entry of the ``losses``
registry (``register_losses``, core's five included), whose factory returns an
:class:`~recon.losses.adversarial.AdversarialLoss`."""

from __future__ import annotations

from recon.errors import PluginError
from recon.losses.adversarial import AdversarialLoss


def adversarial_loss(name: str, key: str = "loss.gan_type") -> AdversarialLoss:
    """Build the registered adversarial loss ``name``.

    Raises:
        UsageError: unknown name (one line: ``key``, the valid names, the closest match).
        PluginError: the plugin's factory raised or returned something else than an
            ``AdversarialLoss``.
    """
    from recon.plugins import build_entry, get_plugin_system

    entry = get_plugin_system().registry("losses").get(name, key=key, what="adversarial loss")
    loss = build_entry(entry, "adversarial loss")
    if not isinstance(loss, AdversarialLoss):
        raise PluginError(f"adversarial loss '{name}' of plugin '{entry.plugin}' returned a "
                          f"{type(loss).__name__}, not a recon.losses.AdversarialLoss")
    return loss
