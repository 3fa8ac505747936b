"""Conditional StyleGAN2 (``data.labels``): labelled data, c_dim, training, FID, `recon generate --label`."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from recon.config import build_config
from recon.plugins import get_task

SMOKE = ["--preset", "smoke", "--set", "trainer.progress=false"]
CONTRAST = ["--set", "data.source=mni152", "--set", "data.labels=contrast"]


@pytest.fixture(scope="module")
def task():
    return get_task("stylegan2")


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One conditional smoke run (mni152 in t1/t2/pd, labelled by contrast) with FID/KID."""
    from recon.cli.main import main

    out = tmp_path_factory.mktemp("sg2c") / "run"
    code = main(["run", "--task", "stylegan2", *SMOKE, *CONTRAST, "--out", str(out),
                 "--set", "eval.n_samples=6", "--set", "eval.val_samples=6", "--set", "eval.max_images=6"])
    assert code == 0
    return out


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


def test_unconditional_default_has_no_label_parameters(task) -> None:
    cfg = build_config(task, "smoke", overrides=[])
    assert cfg.data.labels == "" and cfg.data.class_names == []
    parts = task.setup(cfg, None)
    G, D = parts.generator, parts.discriminator
    assert G.c_dim == 0 and D.c_dim == 0 and parts.objective is None
    assert G.mapping.embed is None and D.mapping is None
    assert not any("embed" in n for n, _ in G.named_parameters())
    assert not any(n.startswith("mapping.") for n, _ in D.named_parameters())
    batch = {"target": torch.zeros(2, 1, 16, 16)}
    assert isinstance(parts.generate(G, batch, torch.Generator().manual_seed(0)), torch.Tensor)


def test_contrast_data_is_labelled_and_networks_are_conditional(task) -> None:
    cfg = build_config(task, "smoke", overrides=["data.source=mni152", "data.labels=contrast"])
    task.validate(cfg)
    assert cfg.data.class_names == ["t1", "t2", "pd"]
    train = task.build_dataset(cfg, "train")
    items = [train[i] for i in range(12)]
    assert {int(it["label"]) for it in items} <= {0, 1, 2} and len({int(it["label"]) for it in items}) > 1
    again = task.build_dataset(cfg, "train")
    assert all(torch.equal(again[i]["target"], items[i]["target"]) and int(again[i]["label"]) == int(items[i]["label"])
               for i in range(12))
    parts = task.setup(cfg, None)
    assert parts.generator.c_dim == 3 and parts.discriminator.c_dim == 3 and parts.objective is not None
    images, aux = parts.generate(parts.generator, {"target": torch.zeros(4, 1, 16, 16)},
                                 torch.Generator().manual_seed(0))
    assert images.shape == (4, 1, 16, 16) and aux["c"].shape == (4, 3) and torch.all(aux["c"].sum(1) == 1)
    from recon_stylegan2.sampling import labels_for

    assert labels_for(3, range(2, 7)).argmax(1).tolist() == [2, 0, 1, 2, 0]  # sampler: class i % n


def test_folder_labels_are_parent_folder_names(task, tmp_path: Path) -> None:
    from PIL import Image

    from recon_stylegan2.data import split_labelled

    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        for i in range(4):
            Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(tmp_path / cls / f"{cls}{i}.png")
    cfg = build_config(task, "smoke", overrides=[f"data.source={tmp_path}", "data.labels=folder"])
    parts = task.setup(cfg, None)
    assert cfg.data.class_names == ["cats", "dogs"] and parts.generator.c_dim == 2
    labels = torch.cat([split_labelled(cfg, s)[1] for s in ("train", "val", "test")])
    assert sorted(labels.tolist()) == [0] * 4 + [1] * 4


def test_contrast_needs_mni152(cli) -> None:
    result = cli("run", "--task", "stylegan2", *SMOKE, "--set", "data.labels=contrast", "--out", "/nonexistent/x")
    assert result.code == 2 and "mni152" in result.err


def test_conditional_run_has_fid_and_kid_or_says_why_not(cond_run: Path) -> None:
    from recon.metrics import inception_status

    result = json.loads((cond_run / "eval.json").read_text())
    assert result["task"] == "stylegan2" and result["n_images"] == 6
    available, _ = inception_status()
    if available:
        assert {"fid", "kid"} <= set(result["metrics"])
        assert all(math.isfinite(v) for v in result["metrics"].values())
    else:
        assert result["metrics"] == {} and result["conventions"]["fid"].startswith("not computed")
    # T1, T2 and PD slices mixed: no single tissue order, so no anatomy metrics (and refused if asked for)
    assert not any(key.startswith("anat_") for key in result["metrics"]) and "anatomy" not in result["conventions"]


def test_anatomy_is_refused_for_mixed_contrasts(cli, tmp_path: Path) -> None:
    result = cli("run", "--task", "stylegan2", "--preset", "smoke", "--set", "data.source=mni152",
                 "--set", "data.labels=contrast", "--set", "eval.anatomy=true", "--out", tmp_path / "r")
    assert result.code == 2 and "mix T1, T2 and PD" in result.err


def test_generate_label_writes_that_class(cli, cond_run: Path, tmp_path: Path) -> None:
    ck = cond_run / "checkpoints" / "last.pt"
    for label in ("t1", "t2"):
        result = cli("generate", "--checkpoint", ck, "--label", label, "-n", 2, "-o", tmp_path / label, "--seed", 5)
        assert result.code == 0, result.err
    t1, t2 = _digests(tmp_path / "t1"), _digests(tmp_path / "t2")
    assert list(t2) == ["000000.png", "000001.png"]
    assert all(t1[name] != t2[name] for name in t2)
    result = cli("generate", "--checkpoint", ck, "--label", "t2", "-n", 2, "-o", tmp_path / "again", "--seed", 5)
    assert result.code == 0 and _digests(tmp_path / "again") == t2


def test_generate_refuses_an_unknown_label(cli, cond_run: Path, tmp_path: Path) -> None:
    result = cli("generate", "--checkpoint", cond_run / "checkpoints" / "last.pt", "--label", "flair",
                 "-n", 1, "-o", tmp_path / "x")
    assert result.code == 2 and "t1, t2, pd" in result.err and len(result.err.strip().splitlines()) == 1


def test_generate_refuses_a_label_for_an_unconditional_checkpoint(cli, tmp_path: Path) -> None:
    out = tmp_path / "run"
    fast = ["--set", "eval.fid=false", "--set", "trainer.eval_every=0", "--set", "trainer.sample_every=0",
            "--set", "trainer.max_steps=1", "--set", "trainer.checkpoint_every=1"]
    assert cli("run", "--task", "stylegan2", *SMOKE, *fast, "--out", out).code == 0
    result = cli("generate", "--checkpoint", out / "checkpoints" / "last.pt", "--label", "t1", "-n", 1,
                 "-o", tmp_path / "x")
    assert result.code == 2 and "unconditional" in result.err


def _labelled_folder(root: Path, n: int = 6) -> list[str]:
    """``n`` random PNGs in ``root/img`` (no class folders); returns their names."""
    from PIL import Image

    rng = np.random.default_rng(1)
    (root / "img").mkdir()
    names = [f"scan{i}.png" for i in range(n)]
    for name in names:
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(root / "img" / name)
    return names


def test_csv_labels_come_from_the_named_column(task, tmp_path: Path) -> None:
    from recon_stylegan2.data import split_labelled

    names = _labelled_folder(tmp_path)
    table = tmp_path / "labels.csv"  # relative paths, one bare file name, an extra row for another file
    rows = [f"img/{n},{'AD' if i % 3 == 0 else 'CN'},x" for i, n in enumerate(names[:-1])]
    rows += [f"{names[-1]},MCI,x", "img/elsewhere.png,OTHER,x"]
    table.write_text("file,diagnosis,site\n" + "\n".join(rows) + "\n")
    cfg = build_config(task, "smoke", overrides=[f"data.source={tmp_path / 'img'}", "data.labels=csv",
                                                 f"data.labels_file={table}", "data.labels_column=diagnosis"])
    parts = task.setup(cfg, None)
    assert cfg.data.class_names == ["AD", "CN", "MCI"] and parts.generator.c_dim == 3
    labels = torch.cat([split_labelled(cfg, s)[1] for s in ("train", "val", "test")])
    assert sorted(labels.tolist()) == [0, 0, 1, 1, 1, 2]


@pytest.mark.parametrize(("csv_text", "message"), [
    (None, "no such file"),
    ("file,label\n", "no rows"),
    ("path,label\nimg/scan0.png,A\n", "no column 'file'"),
    ("file,label\nimg/scan0.png,\n", "empty label"),
    ("file,label\nimg/scan0.png,A\nimg/scan0.png,B\n", "two classes"),
    ("file,label\nimg/scan0.png,A\n", "no row for"),
])
def test_bad_label_tables_are_refused_in_one_line(cli, tmp_path: Path, csv_text: str | None, message: str) -> None:
    _labelled_folder(tmp_path)
    table = tmp_path / "labels.csv"
    if csv_text is not None:
        table.write_text(csv_text)
    result = cli("run", "--task", "stylegan2", *SMOKE, "--data", str(tmp_path / "img"), "--set", "data.labels=csv",
                 "--set", f"data.labels_file={table}", "--out", str(tmp_path / "run"))
    assert result.code == 2 and message in result.err and len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_labels_file_needs_labels_csv(cli, tmp_path: Path) -> None:
    result = cli("run", "--task", "stylegan2", *SMOKE, "--set", "data.labels_file=x.csv", "--out", str(tmp_path / "r"))
    assert result.code == 2 and "data.labels=csv" in result.err
