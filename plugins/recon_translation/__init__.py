"""Built-in modality-translation plugin: tasks ``mri_translation`` (e.g. T1 -> T2, pix2pix) and
``mri_translation_unpaired`` (the same contrasts learned from unpaired images, CycleGAN).

Registered through the ``recon`` entry-point group like any third-party plugin. Importing
this module is cheap: the task classes are imported when a task is built.
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

    def mri_translation_unpaired() -> Any:
        from recon_translation.unpaired_task import UnpairedTranslationTask

        return UnpairedTranslationTask()

    register("mri_translation_unpaired", mri_translation_unpaired, benchmark={"non_adversarial": False},
             description="unpaired MR contrast translation, e.g. T1 -> T2 (CycleGAN: two U-Nets, two PatchGANs, "
                         "cycle + identity losses), vs the histogram-matched source")
