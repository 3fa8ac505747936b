"""Built-in modality-translation plugin: task ``mri_translation`` (e.g. T1 -> T2, pix2pix).

Registered through the ``recon`` entry-point group like any third-party plugin. Importing
this module is cheap: the task class is imported when the task is built.
"""

from __future__ import annotations

from typing import Any

from recon.api import hookimpl


@hookimpl
def register_tasks(register: Any) -> None:
    def mri_translation() -> Any:
        from recon_translation.tasks import TranslationTask

        return TranslationTask()

    register("mri_translation", mri_translation, benchmark={"sweep": [0, 0.01, 0.05, 0.2]},
             description="MR contrast translation, e.g. T1 -> T2 (pix2pix U-Net + conditional PatchGAN), "
                         "vs the histogram-matched source")
