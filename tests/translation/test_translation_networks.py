"""The pix2pix networks: U-Net-256 and the 70x70 PatchGAN of the paper, any slice size, conditional D."""

from __future__ import annotations

import torch

from recon.config import build_config
from recon.plugins import get_task
from recon_translation.networks import UNetGenerator


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_networks_have_the_pix2pix_sizes() -> None:
    """pix2pix (junyanz/pytorch-CycleGAN-and-pix2pix) prints 54.414 M parameters for its
    unet_256 G and 2.769 M for the basic 70x70 D (RGB -> RGB, batch norm)."""
    from recon.nets import PatchGANDiscriminator

    g = UNetGenerator(3, 3, num_downs=8, channels=64, norm="batch", dropout=0.5)
    assert round(_count(g) / 1e6, 3) == 54.414
    assert round(_count(PatchGANDiscriminator(6, 64, 3, "batch")) / 1e6, 3) == 2.769
    # the task's paper preset builds exactly these, for 1-channel MRI
    task = get_task("mri_translation")
    cfg = build_config(task, "paper")
    parts = task.setup(cfg, None)
    unet = parts.generator.unet
    assert unet.num_downs == 8 and sum(isinstance(m, torch.nn.Dropout) for m in unet.modules()) == 3
    assert _count(unet) == _count(UNetGenerator(1, 1, 8, 64, "batch", 0.5))
    assert _count(parts.discriminator) == _count(PatchGANDiscriminator(2, 64, 3, "batch"))


def test_unet_keeps_any_slice_size_and_the_unit_range() -> None:
    g = UNetGenerator(1, 1, num_downs=5, channels=4, norm="instance", dropout=0.0).eval()
    for shape in ((197, 233), (31, 17), (64, 64)):
        with torch.no_grad():
            out = g(torch.rand(2, 1, *shape))
        assert out.shape == (2, 1, *shape)
        assert 0 <= float(out.min()) and float(out.max()) <= 1
    linear = UNetGenerator(1, 1, num_downs=3, channels=4, output="linear").eval()
    assert linear(torch.rand(1, 1, 20, 20)).shape == (1, 1, 20, 20)


def test_discriminator_sees_the_source_then_the_image() -> None:
    task = get_task("mri_translation")
    cfg = build_config(task, "smoke")
    batch = {"input": torch.zeros(2, 1, 32, 32), "target": torch.ones(2, 1, 32, 32)}
    fake = torch.full((2, 1, 32, 32), 0.5)
    parts = task.setup(cfg, None)
    seen = parts.discriminator_input(batch, fake)
    assert seen.shape == (2, 2, 32, 32)
    assert torch.equal(seen[:, :1], batch["input"]) and torch.equal(seen[:, 1:], fake)
    d = parts.discriminator
    assert d(seen).shape[:2] == (2, 1)


def test_paper_patchgan_sees_70x70_pixels() -> None:
    """One output logit of the 3-layer PatchGAN depends on a 70x70 window of its input."""
    from recon.nets import PatchGANDiscriminator

    d = PatchGANDiscriminator(2, 8, 3, "none")
    x = torch.rand(1, 2, 128, 128, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[-2] // 2, out.shape[-1] // 2].backward()
    rows = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 3)))
    cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 2)))
    assert int(rows.max() - rows.min() + 1) == 70 and int(cols.max() - cols.min() + 1) == 70
