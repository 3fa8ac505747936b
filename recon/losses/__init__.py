"""Loss building blocks: adversarial losses, regularizers, reconstruction losses."""

from recon.losses.adversarial import ADVERSARIAL_LOSSES, AdversarialLoss
from recon.losses.artifacts import artifact_loss, artifact_map
from recon.losses.reconstruction import content_loss, l1_loss, l2_loss
from recon.losses.regularizers import gradient_penalty, r1_penalty

__all__ = [
    "ADVERSARIAL_LOSSES", "AdversarialLoss", "artifact_loss", "artifact_map", "content_loss", "l1_loss", "l2_loss",
    "gradient_penalty", "r1_penalty",
]
