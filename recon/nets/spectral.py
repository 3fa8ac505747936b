"""Spectral normalisation of a discriminator (Miyato et al. 2018, *Spectral Normalization for
Generative Adversarial Networks*, ICLR).

:func:`apply_spectral_norm` wraps the weight of every convolution and linear layer of a module
with :func:`torch.nn.utils.parametrizations.spectral_norm`: the layer uses ``W / sigma(W)``,
``sigma`` estimated by one power iteration per training forward pass, which bounds D's
Lipschitz constant layer by layer. Core applies it to any task's D with
``model.d_spectral_norm=true`` (:func:`recon.train.networks.setup_parts`);
:class:`recon.nets.SNPatchGANDiscriminator` has it built in.

The parametrized weight is stored as ``<layer>.parametrizations.weight.original`` with the
power-iteration vectors ``_u`` / ``_v`` as buffers, so a checkpoint carries them and a resumed
run continues bit for bit; a checkpoint saved with spectral norm only loads into a D built
with it (and vice versa).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["SPECTRAL_LAYERS", "apply_spectral_norm"]

#: the layer types whose ``weight`` :func:`apply_spectral_norm` normalises
SPECTRAL_LAYERS: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                                                nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)


def apply_spectral_norm(module: nn.Module, n_power_iterations: int = 1, eps: float = 1e-12) -> nn.Module:
    """Spectral-normalise the ``weight`` of every convolution (1D/2D/3D, transposed too) and
    linear layer of ``module``, in place; returns ``module``.

    Layers whose weight is already parametrized (e.g. already spectrally normalised) are left
    as they are, so applying it twice is the same as once. Normalisation layers and custom
    layers (e.g. StyleGAN2's equalized-learning-rate convolutions) are not touched.

    Raises:
        ValueError: ``module`` has no convolution or linear layer at all.
    """
    layers = [m for m in module.modules() if isinstance(m, SPECTRAL_LAYERS)]
    if not layers:
        raise ValueError(f"{type(module).__name__} has no convolution or linear layer to spectrally normalise")
    for layer in layers:
        if not parametrize.is_parametrized(layer, "weight"):
            spectral_norm(layer, n_power_iterations=n_power_iterations, eps=eps)
    return module
