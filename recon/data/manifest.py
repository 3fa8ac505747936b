"""CSV/JSON manifests: one row per subject, one column per contrast/role.

CSV::

    subject,t1,t2
    s01,s01/t1.nii.gz,s01/t2.nii.gz

JSON: a list of objects (``[{"t1": ..., "t2": ...}, ...]``) or ``{"rows": [...]}``.
Paths are relative to the manifest's folder (absolute paths are kept). The optional
``subject`` (or ``id``) column names the subject; rows of one subject stay in one split.
Every problem is a DataError naming the manifest and the row.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from recon.errors import DataError

MANIFEST_SUFFIXES = (".csv", ".json")
SUBJECT_COLUMNS = ("subject", "id")


@dataclass(frozen=True)
class ManifestRow:
    """One row: its number (1-based data row), subject and ``role -> file``."""

    row: int
    subject: str
    files: dict[str, Path]


def is_manifest(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES


def _records(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the manifest ({type(exc).__name__})") from None
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise DataError(f"{path}: empty manifest (expected a header row naming the roles, e.g. t1,t2)")
        return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(data, dict):
        data = data.get("rows", data.get("pairs", data.get("items")))
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DataError(f"{path}: expected a list of objects (one per subject) or {{\"rows\": [...]}}")
    return [{str(k): str(v) for k, v in r.items()} for r in data]


def manifest_roles(path: Path) -> list[str]:
    """The role columns of a manifest (every column but ``subject``/``id``), in file order."""
    records = _records(path)
    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
        columns = [c.strip() for c in header]
    else:
        columns = list(dict.fromkeys(k for r in records for k in r))
    return [c for c in columns if c and c.lower() not in SUBJECT_COLUMNS]


def read_manifest(path: Path, roles: tuple[str, ...] | None = None) -> list[ManifestRow]:
    """The rows of ``path`` with the files of ``roles`` (all role columns when ``None``).

    Raises:
        DataError: no rows, a missing column, an empty cell, or a file that does not exist.
    """
    records = _records(path)
    if not records:
        raise DataError(f"{path}: the manifest has no rows")
    available = manifest_roles(path)
    wanted = tuple(roles) if roles else tuple(available)
    for role in wanted:
        if role not in available:
            raise DataError(f"{path}: no column '{role}' (columns: {', '.join(available) or 'none'})")
    base = path.parent
    rows = []
    for number, record in enumerate(records, start=1):
        subject = next((record[c] for c in record if c.lower() in SUBJECT_COLUMNS and record[c]), f"row{number}")
        files: dict[str, Path] = {}
        for role in wanted:
            value = record.get(role, "")
            if not value:
                raise DataError(f"{path} row {number}: empty '{role}' entry")
            file = Path(value).expanduser()
            file = file if file.is_absolute() else base / file
            if not file.exists():
                raise DataError(f"{path} row {number}: {role} file {file}: no such file or directory")
            files[role] = file
        rows.append(ManifestRow(number, subject, files))
    return rows
