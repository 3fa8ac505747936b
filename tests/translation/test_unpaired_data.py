"""``mri_translation_unpaired`` data and networks: disjoint domains, user folders, CycleGAN's modules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from recon.config import build_config
from recon.plugins import get_task
from tests.conftest import SMOKE, phantom_volume, write_nifti
from tests.translation.conftest import contrast_of

TASK = "mri_translation_unpaired"


def _positions(images: list[np.ndarray], reference: list[np.ndarray]) -> list[int]:
    """Where each image sits in ``reference`` (found by equality, each exactly once)."""
    out = []
    for image in images:
        hits = [k for k, ref in enumerate(reference) if np.array_equal(image, ref)]
        assert len(hits) == 1
        out.append(hits[0])
    return out


def test_builtin_domains_come_from_disjoint_slabs() -> None:
    """A (T1) and B (T2) training slices come from two slabs of the paired training split,
    ``data.domain_gap`` slices apart: no training slice has its aligned partner in the other domain."""
    from recon_translation import data as pairs
    from recon_translation.unpaired_data import training_domains

    cfg = build_config(get_task(TASK), "default")
    a, b = training_domains(cfg)
    train = pairs.load_pairs(cfg, "train")
    pos_a = _positions([im for _, im, _ in a], [im["t1"] for _, im in train])
    pos_b = _positions([im for _, im, _ in b], [im["t2"] for _, im in train])
    assert max(pos_a) + cfg.data.domain_gap < min(pos_b)
    assert len(a) + len(b) + cfg.data.domain_gap == len(train)
    test = pairs.load_pairs(cfg, "test")  # nothing of the test split is trained on
    for _, im, _ in a:
        assert not any(np.array_equal(im, t["t1"]) for _, t in test)
    # the training set draws its A patches from the A slab and its B patches from the B slab only
    dataset = get_task(TASK).build_dataset(cfg, "train")
    item = dataset[0]
    assert set(item) == {"input", "domain_b"} and item["input"].shape == item["domain_b"].shape == (1, 64, 64)
    assert len(dataset.domain_a.images) == len(a) and len(dataset.domain_b.images) == len(b)


def test_training_items_are_a_pure_function_of_seed_and_index() -> None:
    task = get_task(TASK)
    cfg = build_config(task, "smoke")
    one, two = task.build_dataset(cfg, "train"), task.build_dataset(cfg, "train")
    for i in (0, 5):
        assert torch.equal(one[i]["input"], two[i]["input"]) and torch.equal(one[i]["domain_b"], two[i]["domain_b"])
    assert not torch.equal(one[0]["input"], one[1]["input"])


def test_manifest_domains_are_disjoint_subjects(pairs_manifest: Path) -> None:
    from recon_translation import data as pairs
    from recon_translation.unpaired_data import training_domains

    cfg = build_config(get_task(TASK), "smoke", overrides=[f"data.source={pairs_manifest}"])
    train = pairs.load_pairs(cfg, "train")
    a, b = training_domains(cfg)
    volumes_a, volumes_b = {v for v, _, _ in a}, {v for v, _, _ in b}
    if len({v for v, _ in train}) >= 2:
        assert volumes_a and volumes_b and not volumes_a & volumes_b
    else:
        assert max(p for *_, p in a) < min(p for *_, p in b)


def test_two_folders_train_and_evaluate_on_the_pairs(cli, pairs_manifest: Path, tmp_path: Path) -> None:
    """``data.domain_a`` / ``data.domain_b``: unpaired folders for training, the manifest's aligned
    test pairs for evaluation; without pairs to fit it, the oracle row is absent."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    for k in range(2):
        write_nifti(tmp_path / "a" / f"t1_{k}.nii.gz", phantom_volume((40, 40, 10), seed=10 + k))
        t1 = phantom_volume((40, 40, 10), seed=20 + k)
        write_nifti(tmp_path / "b" / f"t2_{k}.nii.gz", contrast_of(t1 / t1.max()))
    out = tmp_path / "run"
    result = cli("run", "--task", TASK, *SMOKE, "--data", pairs_manifest, "--out", out,
                 "--set", f"data.domain_a={tmp_path / 'a'}", "--set", f"data.domain_b={tmp_path / 'b'}")
    assert result.code == 0, result.err
    saved = json.loads((out / "eval.json").read_text())
    assert [b["name"] for b in saved["baselines"]] == ["histogram-matched source", "quantile map (unpaired)"]
    again = cli("eval", "--checkpoint", out / "checkpoints" / "last.pt", "--json", tmp_path / "e.json")
    assert again.code == 0, again.err
    assert [b["name"] for b in json.loads((tmp_path / "e.json").read_text())["baselines"]] == [
        "histogram-matched source", "quantile map (unpaired)"]


def test_cycle_generator_shapes_and_directions() -> None:
    from recon_translation.cyclegan import CycleDiscriminator, build_cyclegan
    from recon_translation.unpaired_baselines import UnpairedIntensity

    cfg = build_config(get_task(TASK), "smoke")
    torch.manual_seed(0)
    generator, discriminator = build_cyclegan(cfg.model, UnpairedIntensity())
    a, b = torch.rand(2, 1, 37, 45), torch.rand(2, 1, 37, 45)
    assert torch.equal(generator(a), generator.g_ab(a))
    out = generator(a, b)
    assert set(out) == {"fake_b", "fake_a", "rec_a", "rec_b", "idt_b", "idt_a"}
    assert all(v.shape == a.shape for v in out.values())
    torch.testing.assert_close(out["rec_a"], generator.g_ba(generator.g_ab(a)))
    assert set(generator(a, b, cycle=False)) == {"fake_b", "fake_a"}
    assert isinstance(discriminator, CycleDiscriminator)
    logits_a, logits_b = discriminator(a, b)
    torch.testing.assert_close(logits_b, discriminator.d_b(b))
    assert logits_a.shape[:2] == (2, 1)


def test_pointwise_residual_starts_as_a_pixelwise_map() -> None:
    from recon_translation.cyclegan import PointwiseResidual
    from recon_translation.networks import UNetGenerator

    torch.manual_seed(0)
    net = PointwiseResidual(UNetGenerator(1, 1, 3, 4, "instance", 0.0, "raw"), 1, 8)
    x = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        y = net(x)
        # a pixel-wise function: equal inputs give equal outputs wherever they are
        x2 = x.clone()
        x2[0, 0, 3, 4] = x[0, 0, 10, 11]
        assert float(net(x2)[0, 0, 3, 4]) == pytest.approx(float(y[0, 0, 10, 11]), abs=1e-6)


def test_resnet_generator_is_cyclegans_resnet_9blocks() -> None:
    """CycleGAN's ``resnet_9blocks`` for RGB has 11,378,179 parameters (it prints 11.378 M) with
    non-affine instance norm; recon's instance norm is affine: 2 more per normalised channel."""
    from recon_translation.cyclegan import ResnetGenerator

    net = ResnetGenerator(3, 3, 64, 9, "instance", "tanh").requires_grad_(False)
    normalised = 64 + 128 + 256 + 9 * 2 * 256 + 128 + 64
    assert sum(p.numel() for p in net.parameters()) == 11_378_179 + 2 * normalised
    y = net(torch.rand(1, 3, 30, 34))
    assert y.shape == (1, 3, 30, 34) and 0 <= float(y.min()) and float(y.max()) <= 1


def test_task_is_listed_with_a_benchmark_declaration(cli) -> None:
    result = cli("list", "--json")
    assert result.code == 0
    tasks = json.loads(result.out)
    entry = next(t for t in tasks["tasks"] if t["name"] == TASK)
    assert "CycleGAN" in entry["description"]


def test_every_data_key_is_read() -> None:
    """The check of ``tests/test_data_keys.py`` for this task: every ``data.*`` key takes effect."""
    from tests.test_data_keys import unread_data_keys

    unread = unread_data_keys(TASK)
    assert not unread, f"data.{sorted(unread)} never read"


def test_quantile_map_is_fitted_without_pairs_and_inverts_for_t2() -> None:
    """The unpaired quantile map: torch interpolation as np.interp, 0 kept at 0, B -> A the
    inverse of A -> B, and on the built-in brain the decreasing (contrast-inverting) polarity
    chosen for T1 -> T2 from the two disjoint slabs' images alone."""
    from recon_translation.quantile_map import interp
    from recon_translation.unpaired_baselines import UnpairedIntensity
    from recon_translation.unpaired_data import training_domains

    xp, fp = torch.tensor([0.0, 0.2, 0.5, 1.0]), torch.tensor([0.0, 0.7, 0.4, 0.1])
    x = torch.rand(100)
    expected = torch.from_numpy(np.interp(x.numpy(), xp.numpy(), fp.numpy())).float()
    torch.testing.assert_close(interp(x, xp, fp), expected)
    cfg = build_config(get_task(TASK), "smoke")
    a, b = training_domains(cfg)
    fitted = UnpairedIntensity().fit_unpaired([im for _, im, _ in a], [im for _, im, _ in b])
    assert float(fitted.polarity) == -1.0
    image = torch.from_numpy(a[5][1])[None]
    mapped = fitted.quantile_map(image, "ab")
    assert torch.all(mapped[image == 0] == 0)
    back = fitted.quantile_map(mapped, "ba")
    assert float((back - image).abs()[image > 0.05].mean()) < 0.01
    forced = UnpairedIntensity().fit_unpaired([im for _, im, _ in a], [im for _, im, _ in b], polarity="increasing")
    assert float(forced.polarity) == 1.0
