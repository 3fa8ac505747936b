"""recon_kspace: undersampled k-space MR reconstruction, task ``mri_kspace``.

Registered through the ``recon`` entry-point group like any third-party plugin. Import-light on
purpose: nothing here imports torch or MONAI; the task and networks are built lazily.

- ``recon_kspace.masks``        fastMRI Cartesian masks (equispaced, random), Poisson-disc, validation
- ``recon_kspace.calibration``  coil maps estimated from the calibration region (real multi-coil data)
- ``recon_kspace.simulate``     magnitude -> phase -> k-space -> undersampled -> zero-filled
- ``recon_kspace.consistency``  hard and learned-soft data-consistency layers
- ``recon_kspace.networks``     cascade-of-U-Nets generator, MONAI VarNet wrapper
- ``recon_kspace.fastmri_io``   fastMRI HDF5 reading/writing
- ``recon_kspace.data``, ``fastmri_data``  datasets (simulated k-space; real fastMRI k-space)
- ``recon_kspace.task``, ``config``, ``presets``, ``evaluate``, ``predict``  the task

The centred FFT, coil maps and the masked Fourier operator are core's (``recon.physics``,
through ``recon.api``). Conventions: docs/kspace.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recon.api import hookimpl

if TYPE_CHECKING:
    from recon.api import RunConfig

__all__ = ["masks", "calibration", "simulate", "consistency", "networks", "fastmri_io"]

#: the benchmark suite trains both accelerations and sweeps the adversarial weight at 4x
#: (docs/benchmarks.md)
BENCHMARK = [
    {"label": "mri_kspace_4x", "overrides": ["mask.acceleration=4"], "sweep": [0, 5e-3, 2e-2, 8e-2]},
    {"label": "mri_kspace_8x", "overrides": ["mask.acceleration=8"]},
]


@hookimpl
def register_tasks(register: Any) -> None:
    def mri_kspace() -> Any:
        from recon_kspace.task import KspaceReconstructionTask

        return KspaceReconstructionTask()

    register("mri_kspace", mri_kspace, benchmark=BENCHMARK,
             description="undersampled k-space MRI reconstruction 4x/8x (U-Net cascade with data consistency "
                         "+ VGG-style D), vs zero-filled")


@hookimpl
def register_networks(register: Any) -> None:
    """``model.g_network=kspace_cascade`` / ``kspace_varnet``: what the task builds for
    ``model.generator=cascade`` / ``varnet`` from the run's config (``model.*``, ``data.coils``)."""

    def architecture(name: str) -> Any:
        def factory(cfg: RunConfig) -> Any:
            from recon_kspace.task import generator

            chosen = cfg.copy()
            chosen.model.generator = name
            return generator(chosen)
        return factory

    register("kspace_cascade", architecture("cascade"), role="generator", tasks=("mri_kspace",),
             description="cascade of residual U-Nets with hard/soft k-space data consistency")
    register("kspace_varnet", architecture("varnet"), role="generator", tasks=("mri_kspace",),
             description="MONAI E2E-VarNet behind the cascade's signature")


#: what eval.json's conventions say of ``hfen`` (recon_kspace.evaluate computes it)
HFEN_DESCRIPTION = ("HFEN = ||LoG(pred - gt)||_2 / ||LoG(gt)||_2 per volume (2D LoG per slice, sigma 1.5, "
                    "15x15 support, scipy gaussian_laplace, reflect; Ravishankar & Bresler 2011); lower is better")


@hookimpl
def register_metrics(register: Any) -> None:
    def hfen(convention: str = "fastmri", scale: int = 0) -> Any:
        from recon_kspace.evaluate import hfen as metric

        return metric

    register("hfen", hfen, description=HFEN_DESCRIPTION)
