"""Loss building blocks: adversarial losses, regularizers, reconstruction losses.

``ADVERSARIAL_LOSSES`` holds core's five; a run gets its loss from the registry with
:func:`adversarial_loss` (``loss.gan_type``), so a plugin's registered loss is selectable too.
"""

from recon.losses.adversarial import ADVERSARIAL_LOSSES, AdversarialLoss
from recon.losses.artifacts import artifact_loss, artifact_map
from recon.losses.reconstruction import content_loss, l1_loss, l2_loss
from recon.losses.regularizers import gradient_penalty, r1_penalty
from recon.losses.selection import adversarial_loss

__all__ = [
    "ADVERSARIAL_LOSSES", "AdversarialLoss", "adversarial_loss", "artifact_loss", "artifact_map", "content_loss",
    "l1_loss", "l2_loss", "gradient_penalty", "r1_penalty",
]
