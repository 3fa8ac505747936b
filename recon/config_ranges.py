"""Value ranges declared once, on the config fields themselves.

A section's field takes its range where it is declared::

    @dataclass
    class MyModel(ModelConfig):
        channels: int = ranged(32, ge=1)
        dropout: float = ranged(0.0, ge=0, lt=1)

and :func:`check_ranges` checks every section of a run (core's and the task's alike) before
any work: a value out of range, or NaN, is one :class:`~recon.errors.ConfigError` line naming
the key and the range. A subclass that only changes a field's default (``patch_size: int =
48``) keeps the range its base class declared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from recon.errors import ConfigError

__all__ = ["Range", "ranged", "range_of", "check_value", "check_ranges"]


@dataclass(frozen=True)
class Range:
    """The interval a numeric field must lie in (``None``: unbounded on that side)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval (NaN never does)."""
        if math.isnan(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.high_open else value > self.high))

    def describe(self) -> str:
        """``>= 0``, ``> 0``, ``>= 0 and <= 1`` ..."""
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return " and ".join(parts)


def ranged(default: Any, *, ge: float | None = None, gt: float | None = None, le: float | None = None,
           lt: float | None = None) -> Any:
    """A dataclass field with ``default`` whose value must be ``>= ge`` (or ``> gt``) and
    ``<= le`` (or ``< lt``)."""
    if ge is not None and gt is not None or le is not None and lt is not None:
        raise ValueError("ranged: give ge or gt, and le or lt, not both")
    bounds = Range(low=gt if gt is not None else ge, high=lt if lt is not None else le,
                   low_open=gt is not None, high_open=lt is not None)
    return field(default=default, metadata={"range": bounds})


def range_of(section_type: type, name: str) -> Range | None:
    """The range of field ``name`` of a section class: where the nearest class of its MRO that
    declares a range for it says (a redeclared default keeps the base's range)."""
    for klass in section_type.__mro__:
        declared = klass.__dict__.get("__dataclass_fields__", {}).get(name)
        if declared is not None and "range" in declared.metadata:
            return declared.metadata["range"]
    return None


def check_value(key: str, section_type: type, name: str, value: Any) -> None:
    """Refuse ``value`` for field ``name`` of ``section_type`` when it lies outside the field's
    declared range (non-numeric values and fields without a range pass), as
    ``ConfigError("<key>=<value> is out of range (must be ...)")``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    bounds = range_of(section_type, name)
    if bounds is not None and not bounds.contains(value):
        raise ConfigError(f"{key}={value!r} is out of range (must be {bounds.describe()})")


def check_ranges(sections: dict[str, Any]) -> None:
    """Refuse the first value out of its declared range in ``sections`` (name -> dataclass
    instance), as ``ConfigError("<section>.<field>=<value> is out of range (must be ...)")``."""
    for section_name, section in sections.items():
        if not is_dataclass(section):
            continue
        for f in fields(section):
            check_value(f"{section_name}.{f.name}", type(section), f.name, getattr(section, f.name))
