"""Class labels from a CSV column (``data.labels=csv``): one row per image, its path and its class.

The CSV has a header row. ``data.labels_path_column`` (default ``file``) holds each image's
path, absolute or relative to the CSV's folder; ``data.labels_column`` (default ``label``)
its class name. An image is found by its resolved path, or by its file name when no other
row has the same name. Every image of the data must have a row with a non-empty class;
rows naming files outside the data are allowed (a table of a larger collection).
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from recon.api import DataError


@functools.lru_cache(maxsize=8)
def read_label_table(csv_file: str, path_column: str, label_column: str) -> tuple[tuple[str, str], ...]:
    """``((resolved path, class), ...)`` of every row of ``csv_file``, in file order.

    Raises :class:`recon.api.DataError` (exit 2) for a missing or unreadable file, a missing
    column, an empty class or a path listed twice with different classes.
    """
    path = Path(csv_file).expanduser()
    if not path.is_file():
        raise DataError(f"data.labels_file={csv_file}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            for column, key in ((path_column, "labels_path_column"), (label_column, "labels_column")):
                if column not in columns:
                    raise DataError(f"data.labels_file={csv_file}: no column '{column}' (data.{key}); "
                                    f"the header has {', '.join(columns) or 'no columns'}")
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"data.labels_file={csv_file}: not a readable CSV ({exc})") from None
    table: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        file, label = (row.get(path_column) or "").strip(), (row.get(label_column) or "").strip()
        if not file or not label:
            empty = label_column if file else path_column
            raise DataError(f"data.labels_file={csv_file}, line {line}: empty {empty}")
        resolved = str((path.parent / file).expanduser().resolve())
        if table.setdefault(resolved, label) != label:
            raise DataError(f"data.labels_file={csv_file}, line {line}: {file} is listed with two classes "
                            f"({table[resolved]} and {label})")
    if not table:
        raise DataError(f"data.labels_file={csv_file}: no rows")
    return tuple(table.items())


def labels_of(files: list[str], csv_file: str, path_column: str, label_column: str) -> list[str]:
    """The class of each image file (by resolved path, else by a file name unique in the table)."""
    table = read_label_table(csv_file, path_column, label_column)
    by_path = dict(table)
    by_name: dict[str, list[str]] = {}
    for resolved, name in table:
        by_name.setdefault(Path(resolved).name, []).append(name)
    out: list[str] = []
    missing: list[str] = []
    for file in files:
        label = by_path.get(str(Path(file).resolve()))
        if label is None:
            named = by_name.get(Path(file).name, [])
            label = named[0] if len(named) == 1 else None
        if label is None:
            missing.append(Path(file).name)
        out.append(label or "")
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise DataError(f"data.labels_file={csv_file}: no row for {shown} (column {path_column})")
    return out
