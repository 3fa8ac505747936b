"""Built-in inpainting plugin: task ``inpainting`` (context encoders and GAN inpainting)."""

from __future__ import annotations

from typing import Any

from recon import hookimpl


@hookimpl
def register_tasks(register: Any) -> None:
    def inpainting() -> Any:
        from recon_inpainting.tasks import InpaintingTask

        return InpaintingTask()

    register("inpainting", inpainting,
             description="image inpainting (context encoder / U-Net + PatchGAN), vs biharmonic inpainting")
