"""Single-process checks of the distributed/precision/compile policies (no process group)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from recon.train.compile import CompiledModule
from recon.train.distributed import sync_batchnorm
from recon.train.precision import make_scaler
from recon.train.runtime import DistInfo, decorrelate_ranks, seed_everything


def _cfg(r1_gamma: float = 0.0, gan_type: str = "ns") -> SimpleNamespace:
    return SimpleNamespace(loss=SimpleNamespace(r1_gamma=r1_gamma, gan_type=gan_type, gp_weight=10.0))


def _bn_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU())


def _kinds(module: nn.Module) -> set[str]:
    return {type(m).__name__ for m in module.modules() if "BatchNorm" in type(m).__name__}


def test_syncbatchnorm_on_cuda_ddp_only_where_there_is_no_double_backward(capsys) -> None:
    two, cuda = DistInfo(2, 0, 0), torch.device("cuda", 0)  # conversion itself needs no GPU
    g, d = sync_batchnorm(_bn_net(), _bn_net(), _cfg(), False, two, cuda)
    assert _kinds(g) == _kinds(d) == {"SyncBatchNorm"}
    assert set(g.state_dict()) == set(_bn_net().state_dict())  # checkpoints load into plain BN
    g, d = sync_batchnorm(_bn_net(), _bn_net(), _cfg(r1_gamma=1.0), True, two, cuda)
    assert _kinds(g) == _kinds(d) == {"BatchNorm2d"}
    assert "keeps per-process BatchNorm" in capsys.readouterr().err
    _, d = sync_batchnorm(_bn_net(), _bn_net(), _cfg(gan_type="wgan-gp"), False, two, cuda)
    assert _kinds(d) == {"BatchNorm2d"}
    for dist, device in ((DistInfo(2, 0, 0), torch.device("cpu")), (DistInfo(1, 0, 0), cuda)):
        g, _ = sync_batchnorm(_bn_net(), None, _cfg(), False, dist, device)
        assert _kinds(g) == {"BatchNorm2d"}  # gloo has no SyncBatchNorm; 1 process needs none


def test_ranks_get_their_own_global_rng_streams_rank0_keeps_its_own() -> None:
    def draw(rank: int) -> torch.Tensor:
        seed_everything(5)
        decorrelate_ranks(5, 10, DistInfo(2, rank, rank))
        return torch.randn(4)

    seed_everything(5)
    reference = torch.randn(4)
    assert torch.equal(draw(0), reference)
    assert not torch.equal(draw(0), draw(1))
    assert torch.equal(draw(1), draw(1))  # reproducible per (seed, step, rank)


def test_fp16_scaler_accepts_the_empty_state_of_an_fp32_checkpoint() -> None:
    cpu = torch.device("cpu")
    scaler = make_scaler(cpu, "fp16")
    scaler.load_state_dict(make_scaler(cpu, "fp32").state_dict())  # {}: starts fresh
    assert scaler.state_dict()["scale"] == 65536.0
    saved = make_scaler(cpu, "fp16")
    saved.load_state_dict({**saved.state_dict(), "scale": 8.0, "_growth_tracker": 5})
    restored = make_scaler(cpu, "fp16")
    restored.load_state_dict(saved.state_dict())
    assert restored.state_dict()["scale"] == 8.0 and restored.state_dict()["_growth_tracker"] == 5


def test_compiled_module_falls_back_to_eager_on_the_first_failure(capsys) -> None:
    calls = []

    def broken(*args: object) -> None:
        calls.append(1)
        raise RuntimeError("backend exploded\nmore detail")

    net = nn.Linear(3, 2)
    wrapped = CompiledModule(net, broken, "generator")
    x = torch.ones(1, 3)
    assert torch.equal(wrapped(x), net(x)) and torch.equal(wrapped(x), net(x))
    assert calls == [1]  # not retried
    err = capsys.readouterr().err
    assert err.count("torch.compile of the generator failed (RuntimeError: backend exploded)") == 1
    assert list(wrapped.parameters()) == list(net.parameters())  # one set of weights
    with wrapped.no_sync():  # no DDP underneath: a no-op
        pass


def test_eager_errors_still_surface_after_a_fallback() -> None:
    wrapped = CompiledModule(nn.Linear(3, 2), lambda *a: (_ for _ in ()).throw(RuntimeError("x")), "discriminator")
    with pytest.raises(RuntimeError, match="mat1 and mat2"):
        wrapped(torch.ones(1, 5))  # a real shape error is not hidden by the fallback
