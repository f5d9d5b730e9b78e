"""Mapping joins: left joins on a shared column, and joins by ranges (IP range -> country).

``join: [{source: ident, key: TransactionID}]`` adds the first matching row of another source.

``range_join: {table: ip_ranges, value: ip, start: start_ip, end: end_ip, take: {country: cc}}``
adds, for each row, columns of the range (a row of source ``ip_ranges``) with
``start <= value <= end`` (both ends inclusive). Values and ends are integers or IPv4 dotted
text (``10.0.0.1``), compared as unsigned 32-bit integers; a value in no range gets missing
columns. Ranges must not overlap (a located error otherwise): then one binary search per row
(numpy ``searchsorted``) finds the only candidate. ``range_join`` may be a list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build.errors import MappingError
from graph_build.layouts_columns import require
from graph_build.tables import LINE, RawTable

RANGE_KEYS = {"table", "value", "start", "end", "take"}


def left_joins(frame: pd.DataFrame, joins: object, sources: dict[str, RawTable],
               where: str) -> pd.DataFrame:
    """``frame`` with the columns of each joined source (first match; never more rows)."""
    require(isinstance(joins, list), where, "join is a list of {source, key}")
    for i, join in enumerate(joins):
        jwhere = f"{where}[{i}]"
        require(isinstance(join, dict) and {"source", "key"} <= set(join), jwhere,
                "needs 'source' and 'key' (not 'on': YAML reads it as true)")
        other = source_of(join["source"], sources, jwhere).frame.drop(columns=[LINE])
        on = join["key"]
        require(on in frame.columns and on in other.columns, jwhere,
                f"both sides need column {on!r}")
        # Keep the first match so a join never multiplies the base rows.
        other = other.drop_duplicates(subset=[on], keep="first")
        frame = frame.merge(other, on=on, how="left", suffixes=("", f"_{join['source']}"))
    return frame


def source_of(name: object, sources: dict[str, RawTable], where: str) -> RawTable:
    """The source ``name`` of the mapping, or a located error naming the ones there are."""
    require(isinstance(name, str) and name in sources, where,
            f"unknown source {name!r} (have {sorted(sources)})")
    return sources[str(name)]


def as_integers(values: pd.Series) -> pd.Series:
    """Integers or IPv4 dotted text as nullable int64 (anything else: missing). Vectorised."""
    text = values.astype("string").str.strip()
    out = pd.to_numeric(text.where(text.str.fullmatch(r"\d{1,19}", na=False)),
                        errors="coerce").astype("Float64")
    dotted = text.str.fullmatch(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", na=False)
    if dotted.any():
        parts = text[dotted].str.split(".", expand=True).astype("int64")
        ok = (parts <= 255).all(axis=1)
        number = (parts[0] * 16_777_216 + parts[1] * 65_536 + parts[2] * 256 + parts[3])
        out[number[ok].index] = number[ok].astype("float64")
    return out.round().astype("Int64")


def range_join(frame: pd.DataFrame, spec: object, sources: dict[str, RawTable],
               where: str) -> pd.DataFrame:
    """``frame`` with the ``take`` columns of the range each row's ``value`` falls in."""
    if isinstance(spec, list):
        for i, one in enumerate(spec):
            frame = range_join(frame, one, sources, f"{where}[{i}]")
        return frame
    require(isinstance(spec, dict) and {"table", "value", "start", "end", "take"} <= set(spec),
            where, f"needs {sorted(RANGE_KEYS)}")
    unknown = set(spec) - RANGE_KEYS
    require(not unknown, where, f"unknown keys {sorted(unknown)}")
    ranges = source_of(spec["table"], sources, f"{where}.table")
    table = ranges.frame
    take = spec["take"]
    require(isinstance(take, dict) and take, f"{where}.take",
            "maps new column names to columns of the range table")
    for column in (spec["start"], spec["end"], *take.values()):
        require(column in table.columns, where, f"range table has no column {column!r}")
    require(spec["value"] in frame.columns, f"{where}.value",
            f"source has no column {spec['value']!r}")
    for new in take:
        require(new not in frame.columns, f"{where}.take.{new}",
                "the source already has this column")
    start, end = as_integers(table[spec["start"]]), as_integers(table[spec["end"]])
    bad = start.isna() | end.isna() | (end < start).fillna(True)
    if bad.any():
        line = int(table.loc[bad[bad].index[0], LINE])
        raise MappingError(f"{ranges.file}:{line}: {where}: range start/end must be integers or "
                           "IPv4 addresses with start <= end")
    order = np.argsort(start.to_numpy(dtype=np.int64), kind="stable")
    starts = start.to_numpy(dtype=np.int64)[order]
    ends = end.to_numpy(dtype=np.int64)[order]
    overlap = np.flatnonzero(starts[1:] <= ends[:-1])
    if len(overlap):
        lines = table[LINE].to_numpy()[order]
        raise MappingError(f"{ranges.file}:{lines[overlap[0] + 1]}: {where}: range overlaps the "
                           f"one on line {lines[overlap[0]]}",
                           hint="ranges of a range_join must not overlap")
    value = as_integers(frame[spec["value"]])
    present = value.notna().to_numpy()
    v = value.fillna(-1).to_numpy(dtype=np.int64)
    require(len(starts) > 0, f"{where}.table", "the range table has no rows")
    idx = np.searchsorted(starts, v, side="right") - 1
    hit = present & (idx >= 0) & (v <= ends[np.clip(idx, 0, None)])
    rows = order[np.clip(idx, 0, None)]
    frame = frame.copy()
    for new, column in take.items():
        taken = table[column].to_numpy(dtype=object)[rows]
        frame[new] = pd.Series(np.where(hit, taken, None), index=frame.index, dtype="string")
    return frame
