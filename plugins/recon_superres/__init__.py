"""Built-in super-resolution plugin: tasks ``mri_superres``, ``srgan`` and ``mri_superres_3d``.

Registered through the ``recon`` entry-point group like any third-party plugin. Importing
this module is cheap: task classes are imported when a task is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recon.api import hookimpl

if TYPE_CHECKING:
    from recon.api import RunConfig


@hookimpl
def register_tasks(register: Any) -> None:
    def mri_superres() -> Any:
        from recon_superres.tasks import MRISuperResTask

        return MRISuperResTask()

    def srgan() -> Any:
        from recon_superres.tasks import SRGANTask

        return SRGANTask()

    def mri_superres_3d() -> Any:
        from recon_superres.task3d import MRISuperRes3DTask

        return MRISuperRes3DTask()

    # the limited-data row: the same single-volume default without DiffAugment on D's inputs;
    # the fine-tuning row: the T2 brain on the finetune preset, from the T1 default's weights
    # (--init-from) against the same run from scratch
    register("mri_superres", mri_superres,
             benchmark=[{"sweep": [0, 1e-3, 5e-3, 2e-2]},
                        {"label": "mri_superres_no_augment", "overrides": ["loss.d_augment="],
                         "non_adversarial": False},
                        {"label": "mri_superres_finetune", "preset": "finetune", "overrides": ["data.source=mni152:t2"],
                         "parent": {"preset": "default", "overrides": []}}],
             description="MRI super-resolution x2/x4 on brain slices (SRResNet + SRGAN D), vs bicubic")
    register("srgan", srgan, benchmark={"sweep": [0, 1e-3, 2e-3, 5e-3]},
             description="SRGAN x4 super-resolution of RGB photographs, Y-channel PSNR/SSIM")
    register("mri_superres_3d", mri_superres_3d,
             description="3D MRI super-resolution on volume patches (Conv3d SRResNet + 3D D), vs trilinear")


@hookimpl
def register_networks(register: Any) -> None:
    def srresnet(cfg: RunConfig) -> Any:
        from recon_superres.task3d import MRISuperRes3DTask
        from recon_superres.tasks import MRISuperResTask, SRGANTask

        tasks = {"srgan": SRGANTask, "mri_superres_3d": MRISuperRes3DTask}
        return tasks.get(cfg.task, MRISuperResTask)().generator(cfg)  # model.channels / blocks, data.scale

    register("srresnet", srresnet, role="generator", tasks=("mri_superres", "srgan", "mri_superres_3d"),
             description="SRResNet generator (Ledig et al. 2017)")
