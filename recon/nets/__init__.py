"""Shared network building blocks (task-specific generators live in their plugins)."""

from recon.nets.discriminators import PatchGANDiscriminator, VGGStyleDiscriminator, make_norm

__all__ = ["PatchGANDiscriminator", "VGGStyleDiscriminator", "make_norm"]
