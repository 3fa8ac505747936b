"""Aligned 2D slices of several contrasts/roles (paired data for translation and supervised tasks).

``source`` is ``mni152`` (the real T1 plus simulated contrasts, all on one grid; roles are
contrast names: ``t1``, ``t2``, ``pd``, ``t1sim``) or a CSV/JSON manifest whose columns name
the roles (:mod:`recon.data.manifest`). Splits follow :mod:`recon.data.images2d`: by slab for
one 3D subject, by subject otherwise. Slices are chosen on the first role's foreground, so
every role yields the same slice indices. Pairs whose shapes differ are resampled onto the
first role's grid when ``resample=True`` (world coordinates for NIfTI/DICOM volumes, resizing
for 2D images), or refused with a message naming both files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recon.data.collection import LoadedSource, builtin_name, load_source, read_prepared, report_skipped
from recon.data.images2d import ImageSpec, load_options, plan_for, record, slice_indices, to_images
from recon.data.manifest import read_manifest
from recon.data.preprocess import resample_like
from recon.data.volume import Volume, check_finite
from recon.errors import DataError

Pair = tuple[int, dict[str, np.ndarray]]


@dataclass(frozen=True)
class PairSpec(ImageSpec):
    """An :class:`ImageSpec` plus the roles to load together and the shape-mismatch policy."""

    roles: tuple[str, ...] = ("t1", "t2")
    resample: bool = False  # resample roles onto the first role's grid when shapes differ
    rician_noise: float = 0.0  # mni152 only: noise of the simulated contrasts (see sources.mni152)


def _builtin_roles(spec: PairSpec) -> dict[str, LoadedSource]:
    """Each role from the built-in source called with ``contrast=role`` (mni152: plus noise, seed)."""
    out = {}
    for role in spec.roles:
        kwargs: tuple = (("contrast", role),)
        if spec.source == "mni152":
            kwargs += (("rician_noise", spec.rician_noise), ("seed", spec.seed))
        out[role] = load_source(spec.source, load_options(spec), "", kwargs)
    return out


@functools.lru_cache(maxsize=4)
def _manifest_roles(spec: PairSpec) -> dict[str, LoadedSource]:
    path = Path(spec.source).expanduser()
    rows = read_manifest(path, spec.roles)
    options = load_options(spec)
    per_role: dict[str, list[Volume]] = {role: [] for role in spec.roles}
    items: list[str] = []
    subjects: list[str] = []
    skipped: list[str] = []
    for row in rows:
        try:
            volumes = {role: read_prepared(row.files[role], options) for role in spec.roles}
            volumes = _align(path, row.row, volumes, spec.resample)
        except DataError as exc:
            if not spec.skip_bad:
                raise
            skipped.append(str(exc))
            continue
        for role in spec.roles:
            per_role[role].append(volumes[role])
        items.append(str(row.files[spec.roles[0]]))
        subjects.append(row.subject)
    report_skipped(skipped)
    if not items:
        raise DataError(f"{path}: no usable rows ({len(skipped)} bad row(s) skipped)")
    return {role: LoadedSource(per_role[role], items, subjects, skipped) for role in spec.roles}


def _align(manifest: Path, row: int, volumes: dict[str, Volume], resample: bool) -> dict[str, Volume]:
    """Every role on the first role's grid, or a DataError naming the two files."""
    roles = list(volumes)
    ref = volumes[roles[0]]
    out = {roles[0]: ref}
    for role in roles[1:]:
        vol = volumes[role]
        if vol.array.shape[1:] == ref.array.shape[1:] and vol.spatial_dims == ref.spatial_dims:
            out[role] = vol
            continue
        if not resample:
            raise DataError(f"{manifest} row {row}: {role} {vol.source} has shape {tuple(vol.array.shape[1:])} but "
                            f"{roles[0]} {ref.source} has {tuple(ref.array.shape[1:])}; set data.resample=true "
                            f"to resample onto the {roles[0]} grid")
        out[role] = resample_like(vol, ref)
        check_finite(out[role].array, vol.source)
    return out


def _roles(spec: PairSpec) -> dict[str, LoadedSource]:
    if not spec.roles:
        raise DataError("paired data needs at least one role (data roles, e.g. t1,t2)")
    if builtin_name(spec.source) is not None:
        return _builtin_roles(spec)
    path = Path(spec.source).expanduser()
    if not path.exists():
        raise DataError(f"{spec.source}: no such file or directory")
    if not path.is_file() or path.suffix.lower() not in (".csv", ".json"):
        raise DataError(f"{spec.source}: paired data needs a CSV/JSON manifest whose columns name the roles "
                        f"({', '.join(spec.roles)}), or the built-in source mni152")
    return _manifest_roles(spec)


@functools.lru_cache(maxsize=16)
def load_split_pairs(spec: PairSpec, split: str) -> tuple[Pair, ...]:
    """``(volume_id, {role: image (C, H, W)})`` of ``split``; images of one item are aligned.

    Raises:
        DataError: a missing manifest column or file, mismatched shapes without ``resample``,
            or an empty split.
    """
    per_role = _roles(spec)
    first = per_role[spec.roles[0]]
    for role in spec.roles[1:]:  # built-in sources: one grid for every contrast
        other = per_role[role]
        for a, b in zip(first.volumes, other.volumes, strict=True):
            if a.array.shape[1:] != b.array.shape[1:]:
                raise DataError(f"{spec.source}: {role} has shape {tuple(b.array.shape[1:])}, "
                                f"{spec.roles[0]} has {tuple(a.array.shape[1:])}")
    plan = plan_for(first, spec)
    record("pairs2d", spec, plan, first, roles=list(spec.roles))
    result: list[Pair] = []
    for vid in plan.volumes[split]:
        ref = first.volumes[vid]
        indices = (slice_indices(ref, spec, plan.slabs[split]) if plan.method == "slab"
                   else slice_indices(ref, spec) if ref.spatial_dims == 3 else None)
        stacks = {role: to_images(per_role[role].volumes[vid], spec, indices) for role in spec.roles}
        result += [(vid, {role: stacks[role][k] for role in spec.roles}) for k in range(len(stacks[spec.roles[0]]))]
    if not result:
        raise DataError(f"{spec.source}: the {split} split holds no non-empty slices")
    return tuple(result)
