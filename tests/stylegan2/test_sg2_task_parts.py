"""The stylegan2 task's parts: data (sources, squares, determinism), ranges, baseline, EMA decay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from recon.config import build_config
from recon.plugins import get_task


@pytest.fixture(scope="module")
def task():
    return get_task("stylegan2")


def _cfg(task, *overrides: str):
    return build_config(task, "smoke", overrides=list(overrides))


def test_faces_train_items_are_pure_functions_of_seed_and_index(task) -> None:
    cfg = _cfg(task, "data.augment=xflip")
    a, b = task.build_dataset(cfg, "train"), task.build_dataset(cfg, "train")
    items = [a[i]["target"] for i in range(40)]
    assert all(torch.equal(x, b[i]["target"]) for i, x in enumerate(items))
    assert items[0].shape == (1, 16, 16) and 0 <= float(min(x.min() for x in items))
    assert float(max(x.max() for x in items)) <= 1
    assert len({x.numpy().tobytes() for x in items}) > 30  # different indices, different samples
    other = task.build_dataset(_cfg(task, "data.augment=xflip", "seed=1"), "train")
    assert not torch.equal(other[0]["target"], items[0]) or not torch.equal(other[1]["target"], items[1])


def test_without_augmentation_items_are_training_images(task) -> None:
    from recon_stylegan2.data import split_images

    cfg = _cfg(task)
    train = split_images(cfg, "train")
    dataset = task.build_dataset(cfg, "train")
    for i in range(10):
        item = dataset[i]["target"]
        assert any(torch.equal(item, image) for image in train)
    test = split_images(cfg, "test")
    assert train.shape[0] + test.shape[0] + split_images(cfg, "val").shape[0] == 200  # lfw_subset


def test_faces_are_resized_with_skimage_as_reference(task) -> None:
    import skimage.data
    from skimage.transform import resize

    from recon_stylegan2.data import resize as sg2_resize

    face = torch.from_numpy(skimage.data.lfw_subset()[0].astype(np.float32))[None]
    ours = sg2_resize(face, 32)[0].numpy()
    reference = resize(face[0].numpy(), (32, 32), order=3, mode="edge", anti_aliasing=False)
    assert ours.shape == (32, 32)
    assert np.abs(ours - np.clip(reference, 0, 1)).mean() < 0.02  # bicubic both ways, borders differ


def test_mni152_slices_are_padded_squares(task) -> None:
    from recon_stylegan2.data import split_images, to_square

    cfg = _cfg(task, "data.source=mni152", "model.resolution=64")
    train, test = split_images(cfg, "train"), split_images(cfg, "test")
    assert train.shape[1:] == (1, 64, 64) and test.shape[1:] == (1, 64, 64)
    assert train.shape[0] > 20 and test.shape[0] > 5
    assert float(train.min()) >= 0 and float(train.max()) <= 1
    # padding (not cropping) keeps the whole head: the border is background
    border = torch.cat([train[..., 0, :], train[..., -1, :], train[..., :, 0], train[..., :, -1]], dim=-1)
    assert float(border.max()) < 0.05
    padded = to_square(torch.ones(1, 3, 5), "pad")
    assert padded.shape == (1, 5, 5) and padded.sum() == 15 and padded[0, 0].sum() == 0


def test_user_folder_rgb_is_centre_cropped(task, tmp_path: Path) -> None:
    from PIL import Image

    from recon_stylegan2.data import split_images

    rng = np.random.default_rng(0)
    for i in range(5):
        array = rng.integers(0, 256, (20, 40, 3), dtype=np.uint8)
        array[:, :10] = 0  # left and right quarters black: cropped away
        array[:, 30:] = 0
        Image.fromarray(array).save(tmp_path / f"im{i}.png")
    cfg = _cfg(task, f"data.source={tmp_path}", "data.channels=3", "model.resolution=16")
    images = torch.cat([split_images(cfg, s) for s in ("train", "val", "test")])
    assert images.shape == (5, 3, 16, 16)
    assert float(images[..., :, :2].mean()) > 0.2 and float(images[..., :, -2:].mean()) > 0.2


def test_generate_draws_latents_from_the_step_rng(task) -> None:
    cfg = _cfg(task, "model.use_noise=false")
    parts = task.setup(cfg, None)
    G = parts.generator.eval()
    batch = {"target": torch.rand(3, 1, 16, 16)}
    first = parts.generate(G, batch, torch.Generator().manual_seed(5))
    again = parts.generate(G, batch, torch.Generator().manual_seed(5))
    other = parts.generate(G, batch, torch.Generator().manual_seed(6))
    assert first.shape == (3, 1, 16, 16)
    assert torch.equal(first, again) and not torch.allclose(first, other)
    assert torch.equal(parts.real_images(batch), batch["target"] * 2 - 1)  # data [0, 1] -> D's [-1, 1]
    assert parts.content_loss(batch, first) == {}


def test_generate_does_not_reseed_the_global_rng(task) -> None:
    """``generate`` draws only what the network draws from torch's global RNG (style mixing,
    noise inputs): no hidden reseeding (the trainer seeds the global RNG per step)."""
    cfg = _cfg(task)
    parts = task.setup(cfg, None)
    G = parts.generator.train()
    batch = {"target": torch.rand(2, 1, 16, 16)}
    z = torch.randn(2, G.z_dim, generator=torch.Generator().manual_seed(5))
    torch.manual_seed(123)
    direct = G(z)
    after_direct = torch.get_rng_state()
    torch.manual_seed(123)
    generated = parts.generate(G, batch, torch.Generator().manual_seed(5))
    assert torch.equal(generated, direct)
    assert torch.equal(torch.get_rng_state(), after_direct)


class _Constant(nn.Module):
    """A stand-in generator whose images hold known values in G's [-1, 1] range."""

    z_dim = 4

    def forward(self, z, truncation_psi=1.0, truncation_cutoff=None, noise_mode="random"):
        values = torch.tensor([-1.5, -1.0, 0.0, 0.5, 1.0, 1.2])
        return values.reshape(1, 1, 1, 6).expand(z.shape[0], 1, 6, 6).clone()


def test_pngs_map_generator_range_to_0_1(task, tmp_path: Path) -> None:
    from PIL import Image

    cfg = _cfg(task)
    from recon.api import Parts

    paths = task.sample_file(cfg, Parts(generator=_Constant()), 2, tmp_path, torch.device("cpu"), seed=0)
    assert [p.name for p in paths] == ["000000.png", "000001.png"]
    row = np.asarray(Image.open(paths[0]))[0]
    # (x + 1) / 2, clamped, to 8 bits: -1.5, -1 -> 0; 0 -> 128; 0.5 -> 191; 1, 1.2 -> 255
    assert row.tolist() == [0, 0, 128, 191, 255, 255]
    postprocess = task.setup(cfg, None).postprocess
    assert torch.equal(postprocess(torch.tensor([-2.0, 0.0, 3.0])), torch.tensor([0.0, 0.5, 1.0]))


def test_gaussian_baseline_matches_numpy_moments() -> None:
    from recon_stylegan2.baseline import GaussianImageModel

    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.uniform(0.3, 0.7, (30, 1, 3, 3)))
    model = GaussianImageModel(images)
    flat = images.reshape(30, -1).numpy()
    np.testing.assert_allclose(model.mean.numpy(), flat.mean(0), atol=1e-12)
    np.testing.assert_allclose(model.covariance.numpy(), np.cov(flat, rowvar=False), atol=1e-12)
    samples = model.sample(40_000, torch.Generator().manual_seed(0)).reshape(40_000, -1).double().numpy()
    assert samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_allclose(samples.mean(0), flat.mean(0), atol=3e-3)
    np.testing.assert_allclose(np.cov(samples, rowvar=False), np.cov(flat, rowvar=False), atol=1.5e-3)


def test_ema_decay_follows_stylegan_half_life() -> None:
    from recon_stylegan2.config import ema_decay_for

    assert ema_decay_for(32, 10.0) == pytest.approx(0.997784, abs=1e-6)  # config F: 10 kimg at batch 32
    decay = ema_decay_for(16, 1.0)
    assert decay ** (1000 / 16) == pytest.approx(0.5)  # 1 kimg later half the weight is left


def test_presets_are_the_published_configuration(task) -> None:
    paper = build_config(task, "paper")
    assert (paper.model.resolution, paper.model.channel_base, paper.model.channel_max) == (1024, 32768, 512)
    assert paper.trainer.batch_size == 32 and paper.loss.r1_gamma == 10 and paper.loss.pl_weight == 2
    assert paper.model.style_mixing_prob == 0.9 and paper.ada.target == 0.6 and paper.loss.gan_type == "ns"
    default = build_config(task, "default")
    assert default.ada.enabled and default.ada.p_max == 0.85 and default.data.source == "faces"
    assert default.loss.adversarial == 1.0 and default.loss.l1 == 0
