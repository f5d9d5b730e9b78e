"""Mapping columns: how one canonical column (or attribute) is computed from a source frame.

A column spec is a source column name, or a mapping with one of ``column``, ``template`` or
``value`` plus ``integer``, ``time`` (numbers after an origin) or ``format`` (text times with an
explicit format); see :mod:`graph_build.layouts`. Output is text: validation types it.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from graph_build.errors import MappingError
from graph_build.validate import epoch_ms

_FIELD = re.compile(r"\{([^{}]+)\}")
COLUMN_KEYS = {"column", "template", "value", "time", "format", "integer"}


def require(cond: bool, where: str, why: str) -> None:
    """Raise a located :class:`MappingError` (``where``: the mapping path) unless ``cond``."""
    if not cond:
        raise MappingError(f"{where}: {why}", hint="see graph_build/layouts.py for the format")


def source_column(frame: pd.DataFrame, column: str, where: str) -> pd.Series:
    """A source column as stripped text, blank -> missing; a located error when absent."""
    require(column in frame.columns, where,
            f"source has no column {column!r} (it has "
            f"{', '.join(str(c) for c in frame.columns if not str(c).startswith('_'))})")
    return frame[column].astype("string").str.strip().replace("", pd.NA)


def _integer_text(values: pd.Series) -> pd.Series:
    """Codes stored as floats ("315.0") back to integer text ("315")."""
    num = pd.to_numeric(values, errors="coerce")
    whole = num.notna() & (num % 1 == 0)
    out = values.copy()
    out[whole] = num[whole].astype("int64").astype("string")
    return out


def _time_from_numbers(values: pd.Series, spec: dict, where: str) -> pd.Series:
    require(isinstance(spec, dict), where, "time needs {unit, origin, offset}")
    unit = spec.get("unit", "s")
    scale = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    require(unit in scale, where, f"time unit must be one of {sorted(scale)}")
    origin = pd.Timestamp(spec.get("origin", "1970-01-01T00:00:00Z"))
    origin_ms = int(origin.value // 1_000_000)
    num = pd.to_numeric(values, errors="coerce") + float(spec.get("offset", 0))
    ms = (num * scale[unit] + origin_ms).round()
    return ms.astype("Int64").astype("string")


def _time_from_text(values: pd.Series, fmt: str) -> pd.Series:
    parsed = pd.to_datetime(values, format=fmt, utc=True, errors="coerce")
    out = epoch_ms(parsed).astype("string")
    # Unparsable text stays as it was, so validation reports it with the original value.
    return out.where(parsed.notna(), values)


def _template(frame: pd.DataFrame, spec: dict, where: str) -> pd.Series:
    template = str(spec["template"])
    fields = _FIELD.findall(template)
    require(bool(fields), where, "a template needs at least one {column}")
    parts = {f: source_column(frame, f, where) for f in fields}
    if spec.get("integer"):
        parts = {f: _integer_text(v) for f, v in parts.items()}
    # re.split with a group alternates literal text and field names.
    pieces = _FIELD.split(template)
    out = pd.Series("", index=frame.index, dtype="string")
    missing = pd.Series(False, index=frame.index)
    for i, piece in enumerate(pieces):
        if i % 2:
            missing |= parts[piece].isna()
            out = out + parts[piece].fillna("")
        else:
            out = out + piece
    return out.mask(missing)


def column_values(frame: pd.DataFrame, spec: Any, where: str) -> pd.Series:
    """Compute one canonical column (or attribute) from a source frame, as text."""
    if isinstance(spec, str):
        return source_column(frame, spec, where)
    require(isinstance(spec, dict), where, "a column is a source column name or a mapping")
    unknown = set(spec) - COLUMN_KEYS
    require(not unknown, where, f"unknown keys {sorted(unknown)}; use {sorted(COLUMN_KEYS)}")
    if "value" in spec:
        return pd.Series(str(spec["value"]), index=frame.index, dtype="string")
    if "template" in spec:
        return _template(frame, spec, where)
    require("column" in spec, where, "needs one of column, template or value")
    values = source_column(frame, spec["column"], where)
    if spec.get("integer"):
        values = _integer_text(values)
    if "time" in spec:
        values = _time_from_numbers(values, spec["time"] or {}, where)
    elif "format" in spec:
        values = _time_from_text(values, str(spec["format"]))
    return values
