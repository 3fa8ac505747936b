"""Each loss against its formula on hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from recon.losses import ADVERSARIAL_LOSSES, content_loss, gradient_penalty, r1_penalty

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def bce(logit: float, target: float) -> float:
    p = 1 / (1 + math.exp(-logit))
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def test_non_saturating() -> None:
    loss = ADVERSARIAL_LOSSES["ns"]
    expected_d = (softplus(-2.0) + softplus(1.0)) / 2 + (softplus(0.5) + softplus(-3.0)) / 2
    expected_g = (softplus(-0.5) + softplus(3.0)) / 2
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.g_loss(FAKE).item() == pytest.approx(expected_g, rel=1e-6)


def test_lsgan() -> None:
    loss = ADVERSARIAL_LOSSES["lsgan"]
    # 1/2 E[(r-1)^2] + 1/2 E[f^2] = 0.5*(1+4)/2 + 0.5*(0.25+9)/2
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(0.5 * 2.5 + 0.5 * 4.625)
    # 1/2 E[(f-1)^2] = 0.5*(0.25+16)/2
    assert loss.g_loss(FAKE).item() == pytest.approx(0.5 * 8.125)


def test_hinge() -> None:
    loss = ADVERSARIAL_LOSSES["hinge"]
    # relu(1-2)=0, relu(1+1)=2 -> 1; relu(1+0.5)=1.5, relu(1-3)=0 -> 0.75
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(1.75)
    assert loss.g_loss(FAKE).item() == pytest.approx(1.25)


def test_wgan() -> None:
    loss = ADVERSARIAL_LOSSES["wgan-gp"]
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(-1.25 - 0.5)
    assert loss.g_loss(FAKE).item() == pytest.approx(1.25)
    assert loss.gradient_penalty


def test_relativistic_average() -> None:
    loss = ADVERSARIAL_LOSSES["ragan"]
    mean_r, mean_f = 0.5, -1.25
    d = 0.5 * ((bce(2 - mean_f, 1) + bce(-1 - mean_f, 1)) / 2 + (bce(0.5 - mean_r, 0) + bce(-3 - mean_r, 0)) / 2)
    g = 0.5 * ((bce(2 - mean_f, 0) + bce(-1 - mean_f, 0)) / 2 + (bce(0.5 - mean_r, 1) + bce(-3 - mean_r, 1)) / 2)
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(d, rel=1e-6)
    assert loss.g_loss(FAKE, REAL).item() == pytest.approx(g, rel=1e-6)
    assert loss.needs_real_in_g
    with pytest.raises(ValueError):
        loss.g_loss(FAKE)


def test_r1_on_a_linear_discriminator() -> None:
    # D(x) = w . x  =>  grad = w, ||grad||^2 = ||w||^2 for every sample.
    w = torch.tensor([1.0, -2.0, 0.5])
    x = torch.randn(4, 3, requires_grad=True)
    penalty = r1_penalty(x @ w, x)
    assert penalty.item() == pytest.approx(float(w.pow(2).sum()))


def test_gradient_penalty_on_a_linear_discriminator() -> None:
    # ||grad|| = ||w|| = 3 everywhere => (3 - 1)^2 = 4
    w = torch.tensor([2.0, 1.0, 2.0])
    real, fake = torch.randn(5, 3), torch.randn(5, 3)
    gp = gradient_penalty(lambda z: z @ w, real, fake, generator=torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(4.0, rel=1e-6)


def test_r1_gradient_flows_to_discriminator_weights() -> None:
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    x = torch.randn(3, 2, requires_grad=True)
    r1_penalty((x * w).sum(1) ** 1, x).backward()
    # d/dw ||w||^2 = 2w
    assert torch.allclose(w.grad, 2 * w.detach())


def test_content_loss_terms_are_weighted() -> None:
    pred = torch.tensor([[1.0, 2.0]])
    target = torch.tensor([[0.0, 4.0]])
    terms = content_loss(pred, target, l1=2.0, l2=0.5)
    assert terms["l1"].item() == pytest.approx(2.0 * 1.5)
    assert terms["l2"].item() == pytest.approx(0.5 * 2.5)
    assert "perceptual" not in terms
    terms = content_loss(pred, target, l1=0.0, perceptual=3.0, perceptual_fn=lambda a, b: (a - b).abs().sum(1))
    assert set(terms) == {"perceptual"} and terms["perceptual"].item() == pytest.approx(9.0)


def test_loss_gan_type_selects_from_the_registry() -> None:
    """Core's five come from the registry as the very objects the trainer used before (a
    resumed run trains with the same loss); unknown names are one usage line."""
    from recon.errors import UsageError
    from recon.losses import adversarial_loss

    for name, loss in ADVERSARIAL_LOSSES.items():
        assert adversarial_loss(name) is loss
    with pytest.raises(UsageError, match=r"loss.gan_type: unknown adversarial loss 'hinj' \(did you mean 'hinge'\?\)"):
        adversarial_loss("hinj")


def test_a_registered_loss_must_be_an_adversarial_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    from recon.errors import PluginError
    from recon.losses import adversarial_loss
    from recon.plugins import get_plugin_system
    from recon.registry import Entry

    registry = get_plugin_system().registry("losses")
    monkeypatch.setitem(registry._entries, "not_a_loss", Entry("not_a_loss", lambda: (lambda r, f: r), "elsewhere"))
    with pytest.raises(PluginError, match="'not_a_loss' of plugin 'elsewhere' returned a function, not a "
                                          "recon.losses.AdversarialLoss"):
        adversarial_loss("not_a_loss")
