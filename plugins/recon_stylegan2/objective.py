"""The conditional StyleGAN2 objective: core's :class:`recon.api.GANObjective` with labels for D.

A projection discriminator (StyleGAN2-ADA's conditional D) scores ``(image, label)`` pairs:
the reals with their labels (``batch["label"]``, class indices), the fakes with the labels
the generator drew them with (``generate``'s aux ``"c"``, one-hot). The losses, lazy R1 and
the lazy path-length term (which receives the aux, so the fakes' labels) are core's; only
the call of D differs (:meth:`ConditionalObjective.judge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import Tensor

from recon.api import ConfigError, GANObjective
from recon_stylegan2.sampling import one_hot, unwrap

__all__ = ["ConditionalObjective"]


@dataclass
class ConditionalObjective(GANObjective):
    """:class:`recon.api.GANObjective` whose discriminator also sees the labels: ``D(x, c)``."""

    @classmethod
    def from_config(cls, loss_cfg: Any) -> "ConditionalObjective":
        objective = cast("ConditionalObjective", super().from_config(loss_cfg))
        if objective.loss.gradient_penalty and objective.gp_weight > 0:
            raise ConfigError(f"loss.gan_type={loss_cfg.gan_type} with loss.gp_weight > 0: the gradient penalty "
                              "is not implemented for the conditional stylegan2 (data.labels); use R1 "
                              "(loss.r1_gamma) or set loss.gp_weight=0")
        return objective

    def judge(self, D: torch.nn.Module, images: Tensor, batch: dict[str, Tensor], aux: dict[str, Tensor],
              real: bool) -> Tensor:
        """``D(x, c)``: the reals with their labels (one-hot of ``batch["label"]``), the fakes with
        the labels they were drawn with (``aux["c"]``)."""
        if real:
            labels = one_hot(batch["label"].to(images.device), int(cast(Any, unwrap(D)).c_dim))
        else:
            labels = aux["c"].detach()
        return D(images, labels)
