"""Shared network building blocks (task-specific generators live in their plugins)."""

from recon.nets.discriminators import PatchGANDiscriminator, VGGStyleDiscriminator, make_norm
from recon.nets.sn_patchgan import SNPatchGANDiscriminator
from recon.nets.spectral import apply_spectral_norm

__all__ = ["PatchGANDiscriminator", "SNPatchGANDiscriminator", "VGGStyleDiscriminator", "apply_spectral_norm",
           "make_norm"]
