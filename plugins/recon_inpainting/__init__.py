"""Built-in inpainting plugin: task ``inpainting`` (context encoders and GAN inpainting)."""

from __future__ import annotations

from typing import Any

from recon.api import hookimpl


@hookimpl
def register_tasks(register: Any) -> None:
    def inpainting() -> Any:
        from recon_inpainting.tasks import InpaintingTask

        return InpaintingTask()

    register("inpainting", inpainting,
             benchmark=[{"sweep": [0, 3e-3, 1e-2, 3e-2]},
                        {"label": "inpainting_gated", "preset": "gated", "smoke_preset": "gated-smoke",
                         "non_adversarial": False}],
             description="image inpainting (context encoder / U-Net / gated convolutions + (SN-)PatchGAN), "
                         "vs biharmonic inpainting")


@hookimpl
def register_metrics(register: Any) -> None:
    def l1_hole(convention: str = "sr", scale: int = 0) -> Any:
        from recon_inpainting.evaluate import hole_metric

        return hole_metric(convention, scale)

    register("l1_hole", l1_hole, inputs=("mask",),
             description="mean |pred - gt| over the hole pixels and channels, values in [0,1], "
                         "prediction clamped to [0,1]")
