"""Example third-party task plugin: ``pip install ./examples/recon-denoise``, then ``recon list``."""

from recon.api import hookimpl


@hookimpl
def register_tasks(register):
    def factory():
        from recon_denoise.task import DenoiseTask  # imported when the task is used, not by `recon list`

        return DenoiseTask()

    register("denoise", factory, description="example plugin: MRI slice denoising vs the noisy input")
