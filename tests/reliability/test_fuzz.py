"""Property-based fuzzing of everything that reads user input: image/volume readers, the
config parser and checkpoints. Every example ends in success or a UsageError subclass (the
CLI's exit 2), never another exception or a hang. Derandomized: reproducible examples."""

from __future__ import annotations

import gzip
import io
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from recon.errors import UsageError

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
pytestmark = pytest.mark.timeout(120)

SUFFIXES = [".nii.gz", ".nii", ".png", ".jpg", ".tif", ".bmp", ".npy", ".dcm", ""]
MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"\xff\xd8\xff", b"BM", b"\x1f\x8b", b"\x5c\x01\x00\x00",
         b"\x93NUMPY", b"PK\x03\x04"]


def _expect_success_or_usage_error(fn, *args):
    """Call ``fn``; a UsageError is an accepted outcome, anything else fails the example.

    The outcome is recorded as a hypothesis event (``--hypothesis-show-statistics``).
    """
    try:
        result = fn(*args)
    except UsageError as exc:
        event(f"clear error: {type(exc).__name__}")
        return None
    event("success")
    return result


# -- readers -------------------------------------------------------------------------------
@FUZZ
@given(magic=st.sampled_from(MAGIC), body=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES),
       compress=st.booleans())
def test_random_bytes_to_read_any(magic: bytes, body: bytes, suffix: str, compress: bool) -> None:
    """Random bytes behind a real magic number (PNG, TIFF, JPEG, BMP, gzip, NIfTI ...), maybe gzipped."""
    from recon.data.readers import read_any

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"file{suffix}"
        path.write_bytes(gzip.compress(magic + body) if compress else magic + body)
        volume = _expect_success_or_usage_error(read_any, path)
        if volume is not None:
            assert volume.array.dtype == np.float32 and volume.array.ndim in (3, 4)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@FUZZ
@given(width=st.integers(0, 2**31 - 1), height=st.integers(0, 2**31 - 1),
       depth=st.sampled_from([1, 2, 4, 8, 16, 3]), colour=st.sampled_from([0, 2, 3, 4, 6, 5]),
       body=st.binary(max_size=512))
def test_png_headers_with_random_shapes(width: int, height: int, depth: int, colour: int, body: bytes) -> None:
    """Well-formed PNG headers claiming any size and pixel format, then random pixel data."""
    from recon.data.readers import read_any

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(body)) \
        + _png_chunk(b"IEND", b"")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.png"
        path.write_bytes(data)
        _expect_success_or_usage_error(read_any, path)


ARRAYS = st.tuples(
    st.lists(st.integers(0, 12), min_size=1, max_size=5) | st.lists(st.integers(1, 40), min_size=3, max_size=3),
    st.sampled_from([np.float32, np.float64, np.int16, np.uint8, np.int64]),
    st.sampled_from(["random", "constant", "nan", "inf", "huge"]),
)


def _make(shape: list[int], dtype: type, fill: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    array = (rng.random(shape) * 100).astype(dtype)
    if fill == "constant":
        array[...] = 3
    elif np.issubdtype(dtype, np.floating) and array.size:
        array.flat[0] = {"nan": np.nan, "inf": np.inf, "huge": np.finfo(dtype).max, "random": array.flat[0]}[fill]
    return array


@FUZZ
@given(spec=ARRAYS, suffix=st.sampled_from([".nii.gz", ".nii"]), seed=st.integers(0, 9))
def test_nifti_of_random_shape_and_dtype_through_the_data_pipeline(spec, suffix: str, seed: int) -> None:
    import nibabel as nib

    from recon.data.images2d import ImageSpec, load_split_images

    array = _make(*spec, seed)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            nib.save(nib.Nifti1Image(array, np.eye(4)), str(Path(tmp) / f"v{suffix}"))
        except Exception:  # noqa: BLE001 - nibabel refuses some shapes/dtypes itself: nothing to read
            event("nibabel cannot write it")
            return
        for split in ("train", "test"):
            images = _expect_success_or_usage_error(
                load_split_images, ImageSpec(source=tmp, multiple=2, gap=1, min_foreground=0.0), split)
            for _, image in images or ():
                assert image.ndim == 3 and image.shape[0] == 1 and np.isfinite(image).all()


@FUZZ
@given(height=st.integers(1, 40), width=st.integers(1, 40),
       mode=st.sampled_from(["L", "RGB", "RGBA", "I;16", "1", "P"]), files=st.integers(1, 4), seed=st.integers(0, 9))
def test_images_of_random_size_and_mode_through_the_data_pipeline(height, width, mode, files, seed) -> None:
    from PIL import Image

    from recon.data.images2d import ImageSpec, load_split_images

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(files):
            pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
            Image.fromarray(pixels).convert(mode).save(Path(tmp) / f"{i}.png")
        for split in ("train", "val"):
            images = _expect_success_or_usage_error(
                load_split_images, ImageSpec(source=tmp, multiple=4, channels=1, holdout=files > 1), split)
            for _, image in images or ():
                assert image.shape[0] == 1 and image.shape[1] % 4 == 0 and image.shape[2] % 4 == 0


# -- config --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def task():
    from recon.plugins import get_task

    return get_task("mri_superres")


VALUES = st.one_of(
    st.text(max_size=20), st.integers().map(str), st.floats(allow_nan=True).map(str),
    st.sampled_from(["true", "null", "[]", "{}", "[1, 2]", "[0.5, 0.99]", "{a: 1}", ".nan", "-.inf", "1e3", "0", "-1",
                     "2e400", "!!python/object:os.system", "&a [*a]", "[[[[]]]]", "~", "'", "\x00", "9" * 30]),
)


@FUZZ
@given(data=st.data())
def test_random_overrides(task, data) -> None:
    """``--set KEY=VALUE`` with valid and invalid keys and any value, then the range checks."""
    from recon.config import build_config
    from recon.train.config_checks import check_config

    cfg = build_config(task, "smoke")
    keys = st.one_of(st.sampled_from(cfg.valid_keys()), st.text(max_size=20),
                     st.sampled_from(cfg.valid_keys()).map(lambda k: k + ".x"))
    overrides = data.draw(st.lists(st.tuples(keys, VALUES).map("=".join) | st.text(max_size=10), max_size=4))
    if _expect_success_or_usage_error(lambda: (cfg.apply_overrides(overrides), check_config(cfg))):
        assert cfg.to_yaml()  # an accepted config can always be saved


@FUZZ
@given(preset=st.sampled_from(["smoke", "default", "paper"]) | st.text(max_size=8),
       seed=st.none() | st.integers(), device=st.none() | st.text(max_size=6),
       yaml_text=st.none() | st.text(max_size=200))
def test_random_build_config(task, preset, seed, device, yaml_text) -> None:
    from recon.config import build_config
    from recon.train.config_checks import check_config

    with tempfile.TemporaryDirectory() as tmp:
        config_file = None
        if yaml_text is not None:
            config_file = Path(tmp) / "c.yaml"
            config_file.write_text(yaml_text)
        def build() -> None:
            check_config(build_config(task, preset, config_file=config_file, seed=seed, device=device))

        _expect_success_or_usage_error(build)


NESTED = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                      lambda inner: (st.lists(inner, max_size=3)
                                     | st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


@FUZZ
@given(section=st.sampled_from(["trainer", "data", "model", "loss", "eval", "mask", "task", "seed"]), value=NESTED)
def test_random_yaml_sections(task, section, value) -> None:
    import yaml

    from recon.config import build_config

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text(yaml.safe_dump({section: value}))
        _expect_success_or_usage_error(lambda: build_config(task, "smoke", config_file=path))


# -- checkpoints ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_checkpoint(task) -> bytes:
    """A genuine small mri_superres checkpoint (generator of the smoke preset), as bytes."""
    from recon.config import build_config
    from recon.train.checkpoint import FORMAT, FORMAT_VERSION

    cfg = build_config(task, "smoke")
    torch.manual_seed(0)
    state = {"format": FORMAT, "format_version": FORMAT_VERSION, "recon_version": "0", "task": task.name,
             "config": cfg.to_dict(), "step": 1, "nets": {"generator": task.setup(cfg, None).generator.state_dict()}}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_as_a_checkpoint(data: bytes) -> None:
    from recon.train.inference import load_generator

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.pt"
        path.write_bytes(data)
        with pytest.raises(UsageError) as caught:
            load_generator(path)
        event(f"clear error: {type(caught.value).__name__}")


@FUZZ
@given(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=6))
def test_damaged_real_checkpoint(real_checkpoint: bytes, cut: float, flips) -> None:
    """A real checkpoint truncated anywhere and with bytes flipped anywhere."""
    from recon.train.inference import load_generator

    data = bytearray(real_checkpoint[: max(1, int(len(real_checkpoint) * (0.5 + cut / 2)))] if cut < 0.9
                     else real_checkpoint)
    for where, mask in flips:
        data[min(len(data) - 1, int(where * len(data)))] ^= mask
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.pt"
        path.write_bytes(bytes(data))
        _expect_success_or_usage_error(load_generator, path)
