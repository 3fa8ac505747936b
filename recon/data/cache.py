"""Disk cache of decoded arrays, so built-in sources load without their heavy imports.

Loading nilearn's MNI152 maps imports nilearn and scikit-learn (~2-5 s on every start);
the decoded arrays are written once as uncompressed ``.npz`` files and later runs read
them back in milliseconds. The cache directory is, in order: the one set by
:func:`set_cache_dir` (``data.cache_dir``), ``$RECON_CACHE_DIR``, ``$XDG_CACHE_HOME/recon``,
``~/.cache/recon``. Keys include the version of the package the data came from, so an
upgrade never serves stale data. Writes are atomic (temporary file + rename), so
concurrent runs never read a half-written file; an unwritable cache only costs speed.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

_OVERRIDE: Path | None = None

Arrays = dict[str, np.ndarray]


def set_cache_dir(path: str | os.PathLike | None) -> None:
    """Use ``path`` as the cache directory (``None`` or ``""`` restores the default)."""
    global _OVERRIDE
    _OVERRIDE = Path(path).expanduser() if path else None


def cache_root() -> Path:
    """The cache directory in use (not created here)."""
    if _OVERRIDE is not None:
        return _OVERRIDE
    if os.environ.get("RECON_CACHE_DIR"):
        return Path(os.environ["RECON_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "recon"


def package_version(name: str) -> str:
    """The installed version of distribution ``name`` (``"none"`` if absent), without importing it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "none"


def _file(key: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)
    return cache_root() / f"{safe}.npz"


def cached_arrays(key: str, build: Callable[[], Arrays]) -> Arrays:
    """The arrays stored under ``key``, building and storing them on a miss.

    Args:
        key: a file-name-safe identity of the data (include the producing package's version).
        build: returns ``{name: array}`` when the cache misses.
    """
    path = _file(key)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError):
            pass  # a damaged cache file is rebuilt below
    arrays = build()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            # numpy's stub types **kwds as if a key could be allow_pickle: ours are array names
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError:  # read-only or full cache: correct, only slower next time
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return arrays


def clear(prefix: str = "") -> int:
    """Delete cached files whose name starts with ``prefix``; returns how many."""
    root = cache_root()
    if not root.is_dir():
        return 0
    removed = 0
    for path in root.glob(f"{prefix}*.npz"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
