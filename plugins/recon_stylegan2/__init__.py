"""recon_stylegan2: the unconditional ``stylegan2`` task and its StyleGAN2 building blocks.

Modules: :mod:`.layers` (equalized-lr layers, modulated conv, minibatch stddev, resampling),
:mod:`.mapping` (``MappingNetwork``), :mod:`.networks` (``Generator``, ``Discriminator``,
``CONFIGS``), :mod:`.discriminator`, :mod:`.regularizers` (``r1_penalty``,
``PathLengthRegularizer``), and the task: :mod:`.task` (``StyleGAN2Task``), :mod:`.config`,
:mod:`.presets`, :mod:`.data`, :mod:`.sampling`, :mod:`.baseline`, :mod:`.evaluate`.

Registered through the ``recon`` entry-point group like any third-party plugin. Importing
this package does not import torch: the hooks register lazy factories. See docs/stylegan2.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recon.api import hookimpl

if TYPE_CHECKING:
    from recon.api import RunConfig

__all__ = ["register_tasks", "register_networks"]


@hookimpl
def register_tasks(register: Any) -> None:
    def stylegan2() -> Any:
        from recon_stylegan2.task import StyleGAN2Task

        return StyleGAN2Task()

    # the limited-data row: the 200 built-in faces without ADA
    register("stylegan2", stylegan2, benchmark=[{}, {"label": "stylegan2_no_ada", "overrides": ["ada.enabled=false"]},
                                          {"label": "stylegan2_conditional",
                                           "overrides": ["data.source=mni152", "data.labels=contrast"]}],
             description="unconditional StyleGAN2 + ADA (faces, mni152 slices or your images), FID/KID vs a Gaussian")


@hookimpl
def register_networks(register: Any) -> None:
    """The task's own networks, built from the run's config (``model.*``, ``data.channels``)."""

    def generator(cfg: RunConfig) -> Any:
        from recon_stylegan2.task import generator as build

        return build(cfg)

    def discriminator(cfg: RunConfig) -> Any:
        from recon_stylegan2.task import discriminator as build

        return build(cfg)

    register("stylegan2_generator", generator, role="generator", tasks=("stylegan2",),
             description="StyleGAN2 generator (mapping + skip synthesis)")
    register("stylegan2_discriminator", discriminator, role="discriminator", tasks=("stylegan2",),
             description="StyleGAN2 residual discriminator")
