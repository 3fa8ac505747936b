"""Resolve ``data.source`` into prepared volumes: a built-in source, a folder/file, or a manifest.

- A registered data source by name; ``name:arg`` passes ``arg`` as the first argument
  (``mni152:t2`` is the simulated T2-weighted brain).
- A path: a file, a DICOM series folder, or a folder searched recursively
  (:func:`recon.data.readers.list_data_files`); each volume is prepared by
  :func:`recon.data.preprocess.prepare`.
- A CSV/JSON manifest: the files of one role column (the first one unless ``role`` is given).

Results are cached in memory (per process) and, when ``cache_dir`` is set, prepared volumes
of the user's files are cached on disk keyed by path, size, modification time and options,
so later runs decode nothing. With ``skip_bad`` unreadable or invalid files are left out and
listed on stderr; otherwise the first one stops the run with a DataError naming it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from recon.data.cache import cached_arrays, set_cache_dir
from recon.data.manifest import is_manifest, manifest_roles, read_manifest
from recon.data.preprocess import LoadOptions, prepare
from recon.data.readers import list_data_files, read_any
from recon.data.volume import Volume, check_finite
from recon.errors import DataError


@dataclass
class LoadedSource:
    """Prepared volumes of one source, with what each came from."""

    volumes: list[Volume]
    items: list[str]  # the file (or built-in name) of each volume
    subjects: list[str]  # the subject of each volume (rows of a manifest may share one)
    skipped: list[str] = field(default_factory=list)  # one message per left-out file
    builtin: bool = False


def builtin_name(source: str) -> tuple[str, str] | None:
    """``(name, arg)`` when ``source`` is a registered data source (``name`` or ``name:arg``)."""
    from recon.plugins import get_plugin_system

    sources = get_plugin_system().registries["data_sources"]
    name, _, arg = source.partition(":")
    return (name, arg) if name in sources and not Path(source).exists() else None


def _builtin(name: str, arg: str, kwargs: tuple[tuple[str, Any], ...]) -> LoadedSource:
    from recon.plugins import get_plugin_system

    sources = get_plugin_system().registries["data_sources"]
    try:
        data = sources.build(name, arg, **dict(kwargs)) if arg else sources.build(name, **dict(kwargs))
    except TypeError as exc:
        raise DataError(f"data source '{name}' does not take '{arg}' ({exc})") from None
    volumes = list(data) if isinstance(data, (list, tuple)) else [data]
    for volume in volumes:
        check_finite(volume.array, volume.source or name)
    items = [v.source or f"{name}[{i}]" for i, v in enumerate(volumes)]
    return LoadedSource(volumes, items, list(items), builtin=True)


def _cache_key(path: Path, options: LoadOptions) -> str:
    stats = [path.stat()] if path.is_file() else [p.stat() for p in sorted(path.iterdir()) if p.is_file()]
    identity = [str(path.resolve()), [(s.st_size, s.st_mtime_ns) for s in stats],
                repr(replace(options, skip_bad=False, cache_dir=""))]
    return "file-" + hashlib.sha1(json.dumps(identity).encode()).hexdigest()[:20]


def read_prepared(path: Path, options: LoadOptions) -> Volume:
    """Read and prepare one item; through the disk cache when ``options.cache_dir`` is set."""
    if not options.cache_dir:
        return prepare(read_any(path), options)

    def build() -> dict[str, np.ndarray]:
        volume = prepare(read_any(path), options)
        return {"array": volume.array, "affine": volume.affine, "norm": np.array(json.dumps(volume.norm))}

    data = cached_arrays(_cache_key(path, options), build)
    return Volume(data["array"], data["affine"], str(path), json.loads(str(data["norm"])))


def report_skipped(skipped: list[str]) -> None:
    if skipped:
        print(f"recon: skipped {len(skipped)} bad file(s) (data.skip_bad=true):", file=sys.stderr)
        for line in skipped:
            print(f"  {line}", file=sys.stderr)


def _files(path: Path, options: LoadOptions, role: str) -> LoadedSource:
    if is_manifest(path):
        columns = manifest_roles(path)
        role = role or (columns[0] if columns else "")
        if not role:
            raise DataError(f"{path}: the manifest has no role column (e.g. t1)")
        entries = [(row.files[role], row.subject) for row in read_manifest(path, (role,))]
    else:
        entries = [(item, str(item)) for item in list_data_files(path)]
    volumes, items, subjects, skipped = [], [], [], []
    for item, subject in entries:
        try:
            volumes.append(read_prepared(item, options))
        except DataError as exc:
            if not options.skip_bad:
                raise
            skipped.append(str(exc))
            continue
        items.append(str(item))
        subjects.append(subject)
    report_skipped(skipped)
    if not volumes:
        raise DataError(f"{path}: no usable images ({len(skipped)} bad file(s) skipped)")
    return LoadedSource(volumes, items, subjects, skipped)


@functools.lru_cache(maxsize=8)
def load_source(source: str, options: LoadOptions | None = None, role: str = "",
                builtin_kwargs: tuple[tuple[str, Any], ...] = ()) -> LoadedSource:
    """The prepared volumes of ``source`` (see the module docstring); ``options`` defaults to
    ``LoadOptions()``. Cached per process: callers must not modify the returned arrays."""
    if options is None:
        options = LoadOptions()
    set_cache_dir(options.cache_dir or None)
    named = builtin_name(source)
    if named is not None:
        return _builtin(named[0], named[1], builtin_kwargs)
    path = Path(source).expanduser()
    if not path.exists():
        from recon.plugins import get_plugin_system

        names = ", ".join(get_plugin_system().registries["data_sources"].names())
        raise DataError(f"data source '{source}' is neither a registered source ({names}) nor an existing path")
    return _files(path, options, role)
