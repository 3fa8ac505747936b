"""``fault_probe``: ``mri_superres`` whose training batches are poisoned at chosen steps.

Config section ``fault``:

- ``steps``: 1-based training steps (as numbered in ``metrics.jsonl``) to poison.
- ``kind``: ``loss`` sets the batch's targets to NaN/Inf (the losses become non-finite);
  ``grad`` leaves the losses finite and makes the generator's gradients non-finite.
- ``value``: ``nan`` or ``inf``.
- ``transient``: poison a sample only the first time it is drawn, so replaying the step
  after a rollback succeeds; ``false`` poisons it every time (a persistent fault).

Batch ``s`` (0-based) holds samples ``s*B .. s*B+B-1`` (``recon.train.sampler``), so the
poisoned step is exact and reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor
from torch.utils.data import Dataset

from recon_superres.tasks import MRISuperResTask


@dataclass
class FaultConfig:
    steps: list[int] = field(default_factory=list)
    kind: Literal["loss", "grad"] = "loss"
    value: Literal["nan", "inf"] = "nan"
    transient: bool = True


class PoisonedBatches(Dataset):
    """Wraps the training dataset; adds ``poison_grad`` ``()`` (1.0 on a poisoned sample)."""

    def __init__(self, base: Dataset, batch_size: int, fault: FaultConfig) -> None:
        self.base, self.batch_size, self.fault = base, batch_size, fault
        self.fired: set[int] = set()

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        item = dict(self.base[index])
        hit = index // self.batch_size + 1 in self.fault.steps
        if hit and self.fault.transient:
            hit = index not in self.fired
            self.fired.add(index)
        if hit and self.fault.kind == "loss":
            item["target"] = torch.full_like(item["target"], float(self.fault.value))
        item["poison_grad"] = torch.tensor(1.0 if hit and self.fault.kind == "grad" else 0.0)
        return item


class GradPoison(torch.autograd.Function):
    """Identity forward; backward replaces the gradient of flagged samples by NaN/Inf."""

    @staticmethod
    def forward(ctx: Any, images: Tensor, flags: Tensor, value: float) -> Tensor:
        ctx.save_for_backward(flags)
        ctx.value = value
        return images.view_as(images)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (flags,) = ctx.saved_tensors
        mask = (flags > 0).view(-1, *([1] * (grad.dim() - 1))).expand_as(grad)
        return torch.where(mask, torch.full_like(grad, ctx.value), grad), None, None


class FaultProbeTask(MRISuperResTask):
    name = "fault_probe"
    description = "mri_superres with NaN/Inf injected at chosen steps (tests)"

    def config_sections(self) -> dict[str, type]:
        return {**super().config_sections(), "fault": FaultConfig}

    def build_dataset(self, cfg: Any, split: str) -> Dataset:
        base = super().build_dataset(cfg, split)
        return PoisonedBatches(base, cfg.trainer.batch_size, cfg.fault) if split == "train" else base

    def setup(self, cfg: Any, train_data: Any) -> Any:
        from recon.api import default_content_loss

        parts = super().setup(cfg, train_data)
        image_terms = default_content_loss(cfg)

        def poisoned_terms(batch: dict[str, Tensor], fake: Tensor, perceptual_fn: Any = None) -> dict:
            if "poison_grad" in batch:
                fake = GradPoison.apply(fake, batch["poison_grad"], float(cfg.fault.value))
            return image_terms(batch, fake, perceptual_fn)
        parts.content_loss = poisoned_terms
        return parts
