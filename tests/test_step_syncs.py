"""The training step reads the device at most once when nothing is logged (issue 16, item 3).

Counted with :class:`benchmarks.sync_probe.SyncProbe` (patched ``Tensor.item`` / ``__float__`` /
``__bool__`` / ``tolist`` / ``cpu`` ...) over a real ``Trainer.fit``, with the DataLoader's own
host work not counted. Before this change a step made 8 to 10 such reads (a ``float()`` per
logged term, separate finiteness checks for losses and gradients, ADA's ``p``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch

from benchmarks.sync_probe import SyncProbe

STEPS, LOG_EVERY = 7, 3


def _fit_counting(task_name: str, run_dir: Path) -> tuple[list[int], Any]:
    """Host reads of each step of a smoke run (logged at steps 3, 6 and 7)."""
    from recon.config import build_config
    from recon.plugins import get_task
    from recon.train.trainer import Trainer

    task = get_task(task_name)
    cfg = build_config(task, "smoke", overrides=[
        "trainer.progress=false", f"trainer.max_steps={STEPS}", f"trainer.log_every={LOG_EVERY}",
        "trainer.eval_every=0", "trainer.sample_every=0", "trainer.checkpoint_every=0", "trainer.d_warmup_steps=1"],
        device="cpu")
    trainer = Trainer(task, cfg, run_dir)
    probe = SyncProbe()
    marks: list[int] = []
    batches, step, evaluate = trainer.batch_iterator, trainer.train_step, trainer.evaluate

    def paused_batches() -> Any:
        inner = batches()

        class Paused:
            def __iter__(self) -> "Paused":
                return self

            def __next__(self) -> Any:
                with probe.paused():  # the DataLoader's host work is not the step's
                    return next(inner)

        return Paused()

    def counted_step(micro: list[dict[str, Any]]) -> Any:
        marks.append(probe.count)
        return step(micro)

    def end(split: str) -> Any:
        marks.append(probe.count)
        probe.__exit__()
        return evaluate(split)

    trainer.batch_iterator, trainer.train_step, trainer.evaluate = paused_batches, counted_step, end
    with probe:
        trainer.fit()
    return [b - a for a, b in zip(marks, marks[1:], strict=False)][:STEPS], probe


@pytest.mark.parametrize("task_name", ["mri_superres", "stylegan2"])
def test_a_step_that_logs_nothing_reads_the_device_at_most_once(task_name: str, tmp_path: Path) -> None:
    per_step, probe = _fit_counting(task_name, tmp_path)
    assert len(per_step) == STEPS
    quiet = [n for i, n in enumerate(per_step, start=1) if i % LOG_EVERY and i != STEPS]
    assert quiet and max(quiet) <= 1, (per_step, probe.by_caller.most_common(8))
    # a logging step adds one read: the window's means, all values in one transfer
    assert per_step[LOG_EVERY - 1] <= 2, (per_step, probe.by_caller.most_common(8))


def test_probe_counts_host_reads_and_is_removed_after() -> None:
    x = torch.ones(3)
    with SyncProbe() as probe:
        float(x.sum()), x.tolist(), bool(x.all()), x[0].item()
        with probe.paused():
            x.sum().item()
    assert probe.count == 4
    assert "counted" not in repr(torch.Tensor.item)


def _adam_pair() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Conv2d(3, 1, 1))
    return net, torch.optim.Adam(net.parameters(), lr=1e-2, betas=(0.9, 0.99))


def _backward(net: torch.nn.Module, poison: bool) -> None:
    x = torch.randn(2, 2, 6, 6)
    if poison:
        x[0, 0, 0, 0] = float("nan")
    net(x).square().mean().backward()


@pytest.mark.parametrize("first_bad", [True, False])
def test_step_gate_undoes_a_bad_step_exactly_and_leaves_good_ones_alone(first_bad: bool) -> None:
    """Gated (a bad step taken and undone on the device) against skipped on the host."""
    from recon.train.step_gate import StepGate

    gated, opt_gated = _adam_pair()
    skipped, opt_skipped = copy.deepcopy(gated), None
    opt_skipped = torch.optim.Adam(skipped.parameters(), lr=1e-2, betas=(0.9, 0.99))
    bad_steps = {0, 2} if first_bad else {2}  # step 0: Adam's state does not exist yet
    for i in range(5):
        seed = 100 + i
        for net, opt in ((gated, opt_gated), (skipped, opt_skipped)):
            opt.zero_grad(set_to_none=True)
            torch.manual_seed(seed)
            _backward(net, i in bad_steps)
        gate = StepGate(opt_gated, list(gated.parameters()))
        gate.step(opt_gated.step, torch.tensor(i in bad_steps))
        gate.settle(i in bad_steps)
        if i not in bad_steps:
            opt_skipped.step()
    for a, b in zip(gated.parameters(), skipped.parameters(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(gated.parameters(), skipped.parameters(), strict=True):
        sa, sb = opt_gated.state[a], opt_skipped.state[b]
        assert float(sa["step"]) == float(sb["step"])
        assert torch.equal(sa["exp_avg"], sb["exp_avg"]) and torch.equal(sa["exp_avg_sq"], sb["exp_avg_sq"])


def test_log_window_on_the_device_gives_the_python_float_means() -> None:
    from recon.train.logger import LogWindow

    values = [torch.tensor(v, dtype=torch.float32) for v in (0.1, -0.0, 3.3, 1e-8)]
    as_floats, as_tensors = LogWindow(), LogWindow()
    for v in values:
        as_floats.add({"a": float(v)})
        as_tensors.add({"a": v.double()})
    assert as_floats.means() == as_tensors.means()
