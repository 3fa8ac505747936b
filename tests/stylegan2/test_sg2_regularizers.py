"""R1 and path length regularization."""

from __future__ import annotations

import pytest
import torch

from recon_stylegan2.networks import Discriminator, Generator
from recon_stylegan2.regularizers import (
    PathLengthRegularizer,
    lazy_regularization_adam,
    r1_gamma_heuristic,
    r1_penalty,
)

TINY = dict(z_dim=16, w_dim=16, mapping_layers=2, channel_base=256, channel_max=16)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one intra-op thread is faster and immune to other jobs on the 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_r1_matches_hand_computed_gradient_of_a_linear_d():
    torch.manual_seed(0)
    w = torch.randn(3, 8, 8)
    x = torch.randn(5, 3, 8, 8, requires_grad=True)
    logits = (x * w).flatten(1).sum(1, keepdim=True)  # D(x) = <w, x>: grad = w for every sample
    norm2 = w.square().sum()
    r1 = r1_penalty(logits, x, gamma=2.0)  # gamma / 2 = 1: the plain squared norm
    assert r1.shape == (5,)
    torch.testing.assert_close(r1, norm2.expand(5))
    torch.testing.assert_close(r1_penalty(logits, x, gamma=10.0), 5 * norm2.expand(5))


def test_r1_of_a_quadratic_d_and_its_gradient_to_d():
    torch.manual_seed(0)
    a = torch.tensor(1.5, requires_grad=True)
    x = torch.randn(4, 1, 2, 2, requires_grad=True)
    logits = a * x.square().flatten(1).sum(1)  # grad_x = 2 a x -> ||.||^2 = 4 a^2 ||x||^2
    r1 = r1_penalty(logits, x, gamma=2.0)
    torch.testing.assert_close(r1, 4 * a.detach() ** 2 * x.detach().square().flatten(1).sum(1))
    r1.sum().backward()  # create_graph: the penalty trains D's parameters
    torch.testing.assert_close(a.grad, 8 * a.detach() * x.detach().square().sum())


def test_r1_grad_scale_and_errors():
    w = torch.randn(2, 4, 4)
    x = torch.randn(3, 2, 4, 4, requires_grad=True)
    logits = (x * w).flatten(1).sum(1)
    torch.testing.assert_close(r1_penalty(logits, x, 2.0, grad_scale=1024.0), r1_penalty(logits, x, 2.0))
    with pytest.raises(ValueError):
        r1_penalty(logits, x.detach(), 2.0)


def test_r1_under_autocast_is_fp32():
    torch.manual_seed(0)
    D = Discriminator(resolution=16, num_channels=1, channel_base=256, channel_max=16)
    x = torch.randn(4, 1, 16, 16, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = D(x)
        r1 = r1_penalty(logits, x, gamma=1.0)
    assert r1.dtype == torch.float32 and r1.shape == (4,) and torch.isfinite(r1).all()
    ref = r1_penalty(D(x), x, gamma=1.0)
    torch.testing.assert_close(r1, ref, rtol=0.1, atol=1e-6)  # bf16 forward, same penalty


def test_path_length_penalty_and_state_round_trip():
    torch.manual_seed(0)
    G = Generator(resolution=16, num_channels=1, **TINY)
    pl = PathLengthRegularizer()
    assert (pl.pl_weight, pl.pl_decay, pl.batch_shrink) == (2.0, 0.01, 2)
    z = torch.randn(8, G.z_dim)
    loss = pl(G, z)
    assert loss.ndim == 0 and torch.isfinite(loss) and loss > 0
    assert pl.last_lengths.shape == (4,)  # batch shrink 2
    expected_mean = 0.01 * pl.last_lengths.mean()  # EMA from 0 with decay 0.01
    torch.testing.assert_close(pl.pl_mean, expected_mean)
    loss.backward()
    assert G.mapping.layers[0].weight.grad is not None  # through ws into the mapping
    assert G.synthesis.blocks[-1].conv1.weight.grad.abs().sum() > 0

    state = pl.state_dict()
    assert set(state) == {"pl_mean"}
    other = PathLengthRegularizer()
    other.load_state_dict(state)
    torch.testing.assert_close(other.pl_mean, pl.pl_mean)
    blob = {k: v.clone() for k, v in state.items()}
    pl(G, z)
    assert not torch.equal(pl.pl_mean, blob["pl_mean"])  # the EMA moves on


def test_path_length_accepts_ws_and_batches_and_autocast():
    torch.manual_seed(0)
    G = Generator(resolution=16, num_channels=3, **TINY)
    pl = PathLengthRegularizer(batch_shrink=1)
    ws = G.mapping(torch.randn(3, G.z_dim))
    assert torch.isfinite(pl(G, ws))
    assert pl.last_lengths.shape == (3,)
    batch = {"image": torch.randn(6, 3, 16, 16)}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = pl(G, batch)
    assert loss.dtype == torch.float32 and pl.last_lengths.shape == (6,)
    with pytest.raises(ValueError):
        pl(G, torch.randn(2, 3, 4, 5))


def test_helpers():
    assert r1_gamma_heuristic(256, 64) == pytest.approx(0.2048)
    lr, betas = lazy_regularization_adam(0.002, (0.0, 0.99), 16)
    assert lr == pytest.approx(0.002 * 16 / 17) and betas[0] == 0.0
    assert betas[1] == pytest.approx(0.99 ** (16 / 17))
    assert lazy_regularization_adam(0.1, (0.5, 0.9), 1) == (0.1, (0.5, 0.9))
