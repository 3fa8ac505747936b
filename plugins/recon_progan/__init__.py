"""recon_progan: the unconditional ``progan`` task, progressive growing of GANs (Karras et al. 2018).

Modules: :mod:`.layers` (equalized-lr conv/dense, pixel norm, minibatch stddev, resampling),
:mod:`.schedule` (the growth stage as a function of the step), :mod:`.networks` (``Generator``,
``Discriminator``), :mod:`.objective` (stage setting, staged reals, WGAN-GP + drift), and the
task: :mod:`.task`, :mod:`.config`, :mod:`.presets`, :mod:`.data`, :mod:`.sampling`,
:mod:`.baseline`. Importing this package does not import torch. See docs/progan.md.
"""

from __future__ import annotations

from typing import Any

from recon.api import hookimpl

__all__ = ["register_tasks"]


@hookimpl
def register_tasks(register: Any) -> None:
    def progan() -> Any:
        from recon_progan.task import ProGANTask

        return ProGANTask()

    register("progan", progan,
             benchmark=[{}, {"label": "progan_3d", "preset": "3d", "smoke_preset": "smoke3d"}],
             description="unconditional progressive GAN, 2D (faces, mni152 slices, your images) or 3D brain crops, "
                         "FID/KID vs a Gaussian")
