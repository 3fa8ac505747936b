"""A test-only task plugin that injects NaN/Inf into chosen training steps.

The reliability tests install this folder as a real distribution (a ``.dist-info`` with a
``recon`` entry point on ``sys.path``), exactly as a third-party package would be, so the
trainer meets the fault through the same plugin contract as any task.
"""

from recon import hookimpl


@hookimpl
def register_tasks(register):
    def factory():
        from recon_faultprobe.task import FaultProbeTask

        return FaultProbeTask()

    register("fault_probe", factory, description="mri_superres with NaN/Inf injected at chosen steps (tests)")
