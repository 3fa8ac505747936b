"""Built-in motion-correction plugin: task ``mri_motion``.

Registered through the ``recon`` entry-point group like any third-party plugin. Importing
this module is cheap: the task class is imported when the task is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recon.api import hookimpl

if TYPE_CHECKING:
    from recon.api import RunConfig


@hookimpl
def register_tasks(register: Any) -> None:
    def mri_motion() -> Any:
        from recon_motion.tasks import MotionCorrectionTask

        return MotionCorrectionTask()

    register("mri_motion", mri_motion, benchmark={"sweep": [0, 5e-3, 2e-2, 8e-2]},
             description="MRI motion correction on brain slices (residual U-Net + conditional VGG-style D), "
                         "vs the corrupted input")


@hookimpl
def register_networks(register: Any) -> None:
    def residual_unet(cfg: RunConfig) -> Any:
        from recon_motion.networks import ResidualUNet

        m = cfg.model
        return ResidualUNet(1, 1, m.features, m.norm, m.residual)  # model.features / norm / residual

    register("residual_unet", residual_unet, role="generator", tasks=("mri_motion",),
             description="residual 2D U-Net (MONAI BasicUNet), any input size")
