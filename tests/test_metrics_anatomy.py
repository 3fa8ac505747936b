"""Anatomical plausibility metrics (recon.metrics.anatomy) and their place in core's generative evaluation.

Phantoms: a disc brain on a black background, from the surface inwards a thin CSF ring (sulcal
CSF, touching the brain's boundary), a grey matter ring, white matter, and a dark CSF disc in
the centre (a "ventricle", enclosed by white matter). Their pixel counts are known, so the
properties are checked exactly (and against the areas of the discs).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from recon.errors import UsageError
from recon.metrics import TissueThresholds, anatomy_distances, anatomy_properties, tissue_thresholds
from recon.metrics.anatomy import ANATOMY_PROPERTIES, T1_ORDER, T2_ORDER

from tests import gloo

T1 = {"csf": 0.25, "gm": 0.6, "wm": 0.9}  # intensities of a T1-weighted phantom
T2 = {"csf": 0.95, "gm": 0.6, "wm": 0.35}


def phantom(size: int = 64, brain: float = 24.0, surface: float = 2.0, cortex: float = 6.0,
            ventricle: float = 4.0, intensity: dict[str, float] = T1, dims: int = 2) -> tuple[np.ndarray, dict]:
    """``(size,) * dims`` image and the masks it is made of (radii in pixels, from the centre)."""
    grid = np.indices((size,) * dims, dtype=np.float64) - (size - 1) / 2
    r = np.sqrt((grid**2).sum(axis=0))
    masks = {"surface": (r < brain) & (r >= brain - surface),
             "gm": (r < brain - surface) & (r >= brain - surface - cortex),
             "wm": (r < brain - surface - cortex) & (r >= ventricle),
             "ventricle": r < ventricle}
    image = np.zeros(r.shape)
    image[masks["surface"] | masks["ventricle"]] = intensity["csf"]
    image[masks["gm"]] = intensity["gm"]
    image[masks["wm"]] = intensity["wm"]
    return image, masks


def phantoms(ventricles: list[float], **kwargs) -> np.ndarray:
    """``(N, 1, H, W)`` phantoms with the given ventricle radii."""
    return np.stack([phantom(ventricle=v, **kwargs)[0][None] for v in ventricles])


def test_thresholds_separate_the_four_intensities() -> None:
    th = tissue_thresholds(phantoms([3.0, 4.0, 5.0]))
    assert 0 < th.background < T1["csf"] < th.low < T1["gm"] < th.high < T1["wm"]
    assert th.order == T1_ORDER
    assert "csf" in th.describe()


def test_phantom_properties_are_what_it_is_made_of() -> None:
    image, m = phantom()
    th = tissue_thresholds(phantoms([3.0, 4.0, 5.0]))
    props = anatomy_properties(image[None, None], th)
    assert set(props) == set(ANATOMY_PROPERTIES) and all(v.shape == (1,) for v in props.values())
    brain = m["surface"] | m["gm"] | m["wm"] | m["ventricle"]
    n_brain, n_pixels = brain.sum(), image.size
    assert props["brain"][0] == pytest.approx(n_brain / n_pixels)
    assert props["csf"][0] == pytest.approx((m["surface"].sum() + m["ventricle"].sum()) / n_brain)
    assert props["gm"][0] == pytest.approx(m["gm"].sum() / n_brain)
    assert props["wm"][0] == pytest.approx(m["wm"].sum() / n_brain)
    # only the enclosed CSF disc is a ventricle; the surface ring touches the boundary
    assert props["ventricles"][0] == pytest.approx(m["ventricle"].sum() / n_pixels)
    # and the areas of the discs, within the pixelation error
    assert props["brain"][0] == pytest.approx(np.pi * 24**2 / n_pixels, rel=0.03)
    assert props["ventricles"][0] == pytest.approx(np.pi * 4**2 / n_pixels, rel=0.15)
    assert props["wm"][0] == pytest.approx(np.pi * (16**2 - 4**2) / (np.pi * 24**2), rel=0.05)
    assert sum(props[k][0] for k in ("csf", "gm", "wm")) == pytest.approx(1.0)


def test_t2_order_gives_the_same_anatomy_and_channels_are_averaged() -> None:
    t1 = anatomy_properties(phantoms([4.0]), tissue_thresholds(phantoms([3.0, 4.0, 5.0])))
    t2_reals = phantoms([3.0, 4.0, 5.0], intensity=T2)
    th = tissue_thresholds(np.repeat(t2_reals, 3, axis=1), T2_ORDER)  # RGB: the channel mean
    t2 = anatomy_properties(np.repeat(phantoms([4.0], intensity=T2), 3, axis=1), th)
    for name in ANATOMY_PROPERTIES:
        np.testing.assert_allclose(t2[name], t1[name])
    wrong = anatomy_properties(phantoms([4.0], intensity=T2), tissue_thresholds(t2_reals, T1_ORDER))
    assert wrong["csf"][0] == pytest.approx(t1["wm"][0])  # the order matters: WM read as CSF


def test_volumes() -> None:
    image, m = phantom(size=32, brain=12.0, surface=1.5, cortex=3.0, ventricle=3.0, dims=3)
    th = tissue_thresholds(image[None], spatial_dims=3)  # (N, D, H, W)
    props = anatomy_properties(image[None, None], th, spatial_dims=3)  # (N, C, D, H, W) the same
    brain = m["surface"] | m["gm"] | m["wm"] | m["ventricle"]
    assert props["brain"][0] == pytest.approx(brain.sum() / image.size)
    assert props["ventricles"][0] == pytest.approx(m["ventricle"].sum() / image.size)
    assert props["gm"][0] == pytest.approx(m["gm"].sum() / brain.sum())
    with pytest.raises(UsageError, match="spatial"):
        anatomy_properties(image[None, None, None], th, spatial_dims=3)


def test_images_are_independent_and_an_empty_image_scores_zero() -> None:
    reals = phantoms([3.0, 4.0, 5.0])
    th = tissue_thresholds(reals)
    batch = anatomy_properties(np.concatenate([reals, np.zeros_like(reals[:1])]), th)
    for i in range(3):
        one = anatomy_properties(reals[i:i + 1], th)
        assert all(batch[k][i] == one[k][0] for k in ANATOMY_PROPERTIES)
    assert all(batch[k][3] == 0 for k in ANATOMY_PROPERTIES)


def test_distance_is_zero_for_identical_sets_and_grows_with_the_ventricles() -> None:
    radii = [3.0, 3.5, 4.0, 4.5, 5.0]
    reals = phantoms(radii)
    th = tissue_thresholds(reals)
    real = anatomy_properties(reals, th)
    same = anatomy_distances(real, anatomy_properties(phantoms(radii), th))
    assert all(same[f"anat_w1_{k}"] == 0 for k in ANATOMY_PROPERTIES)
    assert list(same)[:5] == [f"anat_w1_{k}" for k in ANATOMY_PROPERTIES]
    assert same["anat_mean_ventricles"] == pytest.approx(real["ventricles"].mean())
    assert same["anat_std_brain"] == pytest.approx(real["brain"].std())
    w1 = [anatomy_distances(real, anatomy_properties(phantoms([r + shift for r in radii]), th))["anat_w1_ventricles"]
          for shift in (0.0, 1.0, 2.0, 3.0)]
    assert w1[0] == 0 and all(a < b for a, b in zip(w1[:-1], w1[1:], strict=True))
    # the brain's size is the same in every phantom: no distance there
    assert anatomy_distances(real, anatomy_properties(phantoms([r + 2 for r in radii]), th))["anat_w1_brain"] == 0
    with pytest.raises(UsageError):
        anatomy_distances(real, {k: np.zeros(0) for k in real})


def test_the_thresholds_of_the_reals_measure_the_fakes() -> None:
    """A darker generator is measured by the reals' rule (its CSF grows), not by its own."""
    reals = phantoms([3.0, 4.0, 5.0])
    fakes = reals * 0.4  # WM 0.36 falls into GM, GM 0.24 into CSF
    real_rule = anatomy_properties(fakes, tissue_thresholds(reals))
    own_rule = anatomy_properties(fakes, tissue_thresholds(fakes))
    truth = anatomy_properties(reals, tissue_thresholds(reals))
    np.testing.assert_allclose(own_rule["csf"], truth["csf"])  # a refitted rule would hide the shift
    np.testing.assert_allclose(real_rule["csf"], truth["csf"] + truth["gm"])
    assert (real_rule["wm"] == 0).all() and (real_rule["gm"] == truth["wm"]).all()


def test_bad_inputs() -> None:
    with pytest.raises(UsageError, match="order"):
        tissue_thresholds(phantoms([4.0]), ("csf", "csf", "wm"))
    with pytest.raises(UsageError, match="4 intensity classes"):
        tissue_thresholds(np.zeros((2, 1, 8, 8)))
    with pytest.raises(UsageError, match="NaN"):
        anatomy_properties(np.full((1, 1, 8, 8), np.nan), TissueThresholds(0.1, 0.4, 0.7))


# -- core's generative evaluation ----------------------------------------------------------------

class _Images(torch.utils.data.Dataset):
    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"target": self.images[i]}


def _evaluate(source: str, fakes: torch.Tensor, reals: torch.Tensor, **eval_options) -> dict:
    """evaluate_generative of a stub task whose 'generator' returns ``fakes`` (no Inception)."""
    from recon.config import DataConfig, GenerativeEvalConfig, RunConfig
    from recon.generative_eval import evaluate_generative
    from recon.task import Parts, ReferenceSamples, Task

    class Stub(Task):
        name = "stub"
        unconditional = True

        def build_dataset(self, cfg, split):  # type: ignore[no-untyped-def]
            return _Images(reals)

    def sampler(generator, indices, seed, device):  # type: ignore[no-untyped-def]
        return fakes[indices.start:indices.stop]

    cfg = RunConfig("stub", sections={"data": DataConfig(source=source),
                                      "eval": GenerativeEvalConfig(fid=False, n_samples=len(fakes), batch_size=2,
                                                                   **eval_options)})
    parts = Parts(generator=torch.nn.Identity(), sampler=sampler,
                  sample_baselines={"reals": lambda cfg, split, n, seed: ReferenceSamples(lambda: reals, "the reals")})
    return evaluate_generative(Stub(), parts, cfg, parts.generator, "test", torch.device("cpu"))


def test_generative_evaluation_scores_every_row_with_the_reals_rule() -> None:
    reals = torch.from_numpy(phantoms([3.0, 3.5, 4.0, 4.5, 5.0])).float()
    fakes = torch.from_numpy(phantoms([5.0, 5.5, 6.0, 6.5, 7.0])).float()
    result = _evaluate("mni152", fakes, reals)  # 5 samples in batches of 2
    th = tissue_thresholds(reals)
    expected = anatomy_distances(anatomy_properties(reals, th), anatomy_properties(fakes, th))
    assert result["metrics"] == pytest.approx(expected)
    assert result["metrics"]["anat_w1_ventricles"] > 0
    assert result["baselines"][0]["metrics"]["anat_w1_ventricles"] == 0  # the reals as samples
    anatomy = result["conventions"]["anatomy"]
    assert anatomy["thresholds"]["order"] == ["csf", "gm", "wm"] and "t1" in anatomy["rule"]
    assert anatomy["thresholds"]["background"] == pytest.approx(th.background)
    real_ventricles = anatomy_properties(reals, th)["ventricles"]
    assert anatomy["real"]["mean_ventricles"] == pytest.approx(float(real_ventricles.mean()))
    assert result["conventions"]["fid"].startswith("not computed")  # anatomy needs no Inception
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize(("source", "options", "order"), [
    ("mni152:t2", {}, ["wm", "gm", "csf"]),
    ("mni152:pd", {}, ["wm", "gm", "csf"]),
    ("faces", {"anatomy": True, "anatomy_contrast": "t2"}, ["wm", "gm", "csf"]),
    ("faces", {}, None),
    ("mni152", {"anatomy": False}, None),
])
def test_the_switch_and_the_contrast(source: str, options: dict, order: list | None) -> None:
    reals = torch.from_numpy(phantoms([3.0, 4.0, 5.0], intensity=T2)).float()
    result = _evaluate(source, reals, reals, **options)
    if order is None:
        assert "anatomy" not in result["conventions"] and not any(k.startswith("anat_") for k in result["metrics"])
    else:
        assert result["conventions"]["anatomy"]["thresholds"]["order"] == order
        assert result["metrics"]["anat_w1_csf"] == 0 and result["metrics"]["anat_mean_ventricles"] > 0


def test_a_split_without_four_intensities_notes_why() -> None:
    flat = torch.zeros(3, 1, 8, 8)
    result = _evaluate("mni152", flat, flat)
    assert result["conventions"]["anatomy"].startswith("not computed") and result["metrics"] == {}


# -- end to end: recon run --task stylegan2 ------------------------------------------------------

FAST = ["--preset", "smoke", "--set", "trainer.progress=false", "--set", "trainer.max_steps=1",
        "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0", "--set", "trainer.checkpoint_every=0",
        "--set", "eval.fid=false", "--set", "eval.n_samples=4"]


@pytest.mark.parametrize("source", ["mni152", "faces"])
def test_stylegan2_run_reports_anatomy_for_brains_only(cli, tmp_path: Path, source: str) -> None:
    result = cli("run", "--task", "stylegan2", *FAST, "--set", f"data.source={source}", "--out", tmp_path / "run")
    assert result.code == 0, result.err
    evaluation = json.loads((tmp_path / "run" / "eval.json").read_text())
    rows = [evaluation["metrics"]] + [b["metrics"] for b in evaluation["baselines"]]
    assert [b["name"] for b in evaluation["baselines"]] == ["gaussian", "training images"]
    if source == "mni152":
        for metrics in rows:
            assert {f"anat_w1_{k}" for k in ANATOMY_PROPERTIES} <= set(metrics)
            assert all(np.isfinite(v) and v >= 0 for v in metrics.values())
        assert "anatomy" in evaluation["conventions"]
    else:
        assert all(not any(k.startswith("anat_") for k in metrics) for metrics in rows)
        assert "anatomy" not in evaluation["conventions"]


# -- two processes score the samples of one ------------------------------------------------------

def _stub_result(out: Path | None = None) -> dict:
    """5 phantom samples in batches of 2: 3 batches, over 2 ranks when a process group is up."""
    import torch.distributed as tdist

    reals = torch.from_numpy(phantoms([3.0, 3.5, 4.0, 4.5, 5.0])).float()
    fakes = torch.from_numpy(phantoms([2.0, 4.0, 6.0, 6.5, 7.0])).float()
    result = _evaluate("mni152", fakes, reals)
    if out is not None and (not tdist.is_initialized() or tdist.get_rank() == 0):
        out.write_text(json.dumps(result))
    return result


@pytest.mark.skipif(not gloo.available, reason="no gloo backend")
def test_two_processes_measure_the_samples_of_one(tmp_path: Path) -> None:
    from tests.gloo import run_on_two_ranks

    one = _stub_result()
    run_on_two_ranks(_stub_result, tmp_path / "two.json")
    two = json.loads((tmp_path / "two.json").read_text())
    assert one["metrics"]["anat_w1_ventricles"] > 0
    assert two["metrics"] == pytest.approx(one["metrics"], rel=1e-12)
    assert two["baselines"] == one["baselines"] and two["conventions"]["anatomy"] == one["conventions"]["anatomy"]
