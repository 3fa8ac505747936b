import pytest
import torch


@pytest.fixture(autouse=True)
def _one_intra_op_thread():
    """These tests use tiny tensors: one intra-op thread avoids OpenMP spin-waits on a busy
    2-core machine (measured: a tiny VarNet step took 14 s with 2 threads under load, 0.09 s with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]


@pytest.fixture(scope="session")
def kspace_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two smoke runs of ``mri_kspace``: ``plain`` at 8x with ``loss.adversarial=0`` (3 steps), and
    ``gan`` at the default 4x, which reports ``plain`` as its non-adversarial comparison."""
    from recon.cli.main import main

    root = tmp_path_factory.mktemp("kspace")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        plain, gan = root / "plain", root / "gan"
        assert main(["run", "--task", "mri_kspace", *SMOKE, "--out", str(plain), "--set", "loss.adversarial=0",
                     "--set", "trainer.max_steps=3", "--set", "mask.acceleration=8"]) == 0
        assert main(["run", "--task", "mri_kspace", *SMOKE, "--out", str(gan),
                     "--set", f"eval.compare_checkpoint={plain / 'checkpoints' / 'last.pt'}"]) == 0
    finally:
        torch.set_num_threads(before)
    return {"plain": plain, "gan": gan}
