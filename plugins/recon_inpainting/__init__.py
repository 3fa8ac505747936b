"""Built-in inpainting plugin: task ``inpainting`` (context encoders and GAN inpainting)."""

from __future__ import annotations

from typing import Any

from recon.api import hookimpl


@hookimpl
def register_tasks(register: Any) -> None:
    def inpainting() -> Any:
        from recon_inpainting.tasks import InpaintingTask

        return InpaintingTask()

    register("inpainting", inpainting, benchmark={"sweep": [0, 3e-3, 1e-2, 3e-2]},
             description="image inpainting (context encoder / U-Net + PatchGAN), vs biharmonic inpainting")
