"""An example third-party task plugin: Gaussian-noise removal on MRI slices.

Install it with ``pip install ./examples/recon-denoise`` and ``recon list`` shows
``denoise``. Everything heavy is imported inside the factory, so ``recon list`` stays fast.
"""

from __future__ import annotations

from typing import Any

from recon import hookimpl


@hookimpl
def register_tasks(register: Any) -> None:
    def factory() -> Any:
        from recon_denoise.task import DenoiseTask

        return DenoiseTask()

    register("denoise", factory, description="example plugin: MRI slice denoising vs a Gaussian filter")
