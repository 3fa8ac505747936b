"""Built-in disease-progression plugin: task ``mri_progression`` and its volumetric metrics.

Registered through the ``recon`` entry-point group like any third-party plugin. Importing
this module is cheap: the task and the metrics are imported when they are used.
"""

from __future__ import annotations

from typing import Any

from recon.api import hookimpl


@hookimpl
def register_tasks(register: Any) -> None:
    def mri_progression() -> Any:
        from recon_progression.tasks import ProgressionTask

        return ProgressionTask()

    register("mri_progression", mri_progression, benchmark={"preset": "default", "seed": 0,
                                                            "sweep": [0, 0.005, 0.02, 0.1]},
             description="disease-progression simulation: follow-up brain MRI from a baseline and an interval "
                         "(velocity-field U-Net + conditional PatchGAN), vs no change and the group-mean change")


@hookimpl
def register_metrics(register: Any) -> None:
    def factory(which: int) -> Any:
        def build(convention: str = "fastmri", scale: int = 0) -> Any:
            from recon_progression.metrics import change_error

            return change_error(which)
        return build

    register("ventricle_change_error", factory(0), inputs=("input",),
             description="|predicted - true change of ventricle volume| in % of the baseline's volume "
                         "(mri_progression's fixed segmentation)")
    register("brain_change_error", factory(1), inputs=("input",),
             description="|predicted - true change of brain volume| in % of the baseline's volume "
                         "(mri_progression's fixed segmentation)")
