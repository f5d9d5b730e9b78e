"""Validate raw input tables against the canonical schema before anything is written.

Checks: required tables and columns, unknown columns, types (text -> time / number / bool),
out-of-range times and amounts, missing required values, duplicate keys and dangling
references. Every problem is located (file, row, column, why). Validation is vectorised per
column; a bad row is remembered once with all its reasons.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from graph_build import attributes, schema
from graph_build.errors import Problem
from graph_build.tables import LINE, RawTable
from graph_build.value_checks import is_key_column, text_problems, upper_bound

__all__ = ["Problem", "ValidationResult", "parse_times", "validate_tables", "write_rejects"]

# Times outside this window are typos (a year 2206, a seconds value read as ms …).
MIN_TIME_MS = 946_684_800_000  # 2000-01-01
FUTURE_SLACK_MS = 366 * 24 * 3600 * 1000
TRUE_WORDS = {"1", "true", "t", "yes", "y", "1.0"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "0.0"}
# Per-row source file of a table a mapping concatenated from several files (else absent).
SOURCE_FILE = "_file"


@dataclass
class ValidationResult:
    """Typed canonical tables and what was wrong with the input."""

    tables: dict[str, pd.DataFrame]
    problems: list[Problem] = field(default_factory=list)
    rejected_rows: int = 0
    total_rows: int = 0
    #: Declared attributes of the tables present: label -> name -> kind (graph_build.attributes).
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _max_time_ms() -> int:
    return int(time.time() * 1000) + FUTURE_SLACK_MS


def _iso_times_arrow(values: pd.Series) -> pd.Series | None:
    """Epoch ms of a column that is entirely ISO-8601 (or missing), parsed by Arrow; else None.

    The common case for clean input, at a fraction of pandas' memory (which materialises Python
    strings); any value Arrow cannot parse sends the whole column down the general path, which
    then names the bad values.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.chunked_array(pa.array(values, from_pandas=True)) if not isinstance(
            values.array, pd.arrays.ArrowStringArray) else values.array._pa_array
        ms = pc.cast(pc.cast(arr, pa.timestamp("ms", tz="UTC")), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return None
    return pd.Series(ms.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get),
                     index=values.index, dtype="Int64")


def epoch_ms(times: pd.Series) -> pd.Series:
    """UTC datetimes (any pandas unit) as nullable int64 epoch milliseconds."""
    ms = times.dt.tz_convert(None).to_numpy().astype("datetime64[ms]").astype("int64")
    return pd.Series(ms, index=times.index, dtype="Int64").where(times.notna())


def parse_times(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO-8601 text or integer epoch milliseconds to int64 epoch ms (UTC).

    Returns:
        (parsed values with <NA> where missing or bad, mask of values that failed to parse).
    """
    fast = _iso_times_arrow(values)
    if fast is not None:
        return fast, pd.Series(False, index=values.index)
    text = _text(values)
    numeric = text.str.fullmatch(r"\s*-?\d+\s*", na=False)
    out = pd.Series(pd.NA, index=values.index, dtype="Int64")
    if numeric.any():
        out[numeric] = pd.to_numeric(text[numeric], errors="coerce").astype("Int64")
    rest = text.notna() & ~numeric
    if rest.any():
        parsed = pd.to_datetime(text[rest], format="ISO8601", utc=True, errors="coerce")
        ms = epoch_ms(parsed)
        out[ms.index] = ms
    bad = text.notna() & out.isna()
    return out, bad


def _text(values: pd.Series) -> pd.Series:
    """``values`` as a string Series, without copying when it already is one."""
    return values if pd.api.types.is_string_dtype(values.dtype) else values.astype("string")


def _convert(values: pd.Series, col: schema.Column) -> tuple[pd.Series, pd.Series, str]:
    """Convert one text column to its type; returns (values, bad mask, why for bad)."""
    if col.type == "time":
        parsed, bad = parse_times(values)
        in_range = parsed.isna() | ((parsed >= MIN_TIME_MS) & (parsed <= _max_time_ms()))
        out_of_range = ~in_range.fillna(True).astype(bool)
        bad = bad | out_of_range
        why = "not a time (ISO-8601 like 2026-03-01T12:00:00Z, or epoch ms after 2000-01-01)"
        return parsed, bad, why
    if col.type in ("float", "int"):
        text = values.astype("string").str.strip()
        num = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & (num.isna() | ~np.isfinite(num.fillna(0).astype(float)))
        if col.type == "int":
            bad |= num.notna() & (num.fillna(0) % 1 != 0)
        if col.min is not None:
            bad |= num.notna() & (num < col.min)
        top = upper_bound(col.name)
        bad |= num.notna() & (num.abs() > top)
        kind = "an integer" if col.type == "int" else "a number"
        why = f"not {kind}" + (f" >= {col.min:g}" if col.min is not None else "") \
            + f" and <= {top:g}"
        num = num.astype("Int64") if col.type == "int" else num.astype("Float64")
        return num.where(~bad), bad, why
    if col.type == "bool":
        text = values.astype("string").str.strip().str.lower()
        truthy, falsy = text.isin(TRUE_WORDS), text.isin(FALSE_WORDS)
        bad = text.notna() & ~(truthy | falsy)
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[truthy.fillna(False)] = True
        out[falsy.fillna(False)] = False
        return out, bad, "not a boolean (0/1, true/false)"
    # No copy: readers already turn empty cells into missing values, and keys are compared
    # exactly as written (stripping a million-row column twice was the biggest memory peak).
    return _text(values), pd.Series(False, index=values.index), ""


class _Collector:
    """Problems plus, per table, the set of frame indexes of rows to reject."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.bad_rows: dict[str, set] = {}

    def rows(self, raw: RawTable, mask: pd.Series, column: str, why: str,
             values: pd.Series | None = None) -> None:
        if not mask.any():
            return
        idx = mask[mask].index
        self.bad_rows.setdefault(raw.name, set()).update(idx.tolist())
        lines = raw.frame.loc[idx, LINE].tolist()
        files = (raw.frame.loc[idx, SOURCE_FILE].tolist() if SOURCE_FILE in raw.frame.columns
                 else [raw.file] * len(idx))
        shown = (values if values is not None else raw.frame[column]).loc[idx].tolist() \
            if (values is not None or column in raw.frame.columns) else [None] * len(idx)
        for file, line, value in zip(files, lines, shown, strict=True):
            text = None if value is None or value is pd.NA else str(value)[:80]
            self.problems.append(Problem(file, int(line), column, why, text, raw.name))

    def table(self, raw: RawTable, why: str, column: str | None = None, row: int | None = None):
        self.problems.append(Problem(raw.file, row, column, why))
        self.bad_rows.setdefault(raw.name, set()).update(raw.frame.index.tolist())


def _check_table(raw: RawTable, spec: schema.TableSpec, out: _Collector,
                 lenient: bool, declared: dict[str, str] | None = None) -> pd.DataFrame | None:
    frame = raw.frame
    declared = declared or {}
    if len(frame) == 0:
        out.table(raw, "empty file: no data rows")
        return None
    known = set(spec.column_names) | set(declared)
    hint = ("" if spec.name not in attributes.TABLE_LABELS else
            " (or declare it as an attribute: numeric, categorical, boolean or time)")
    for column in frame.columns:
        if column not in (LINE, SOURCE_FILE) and column not in known and not lenient:
            out.problems.append(Problem(
                raw.file, 1, column,
                f"unknown column; {spec.name} has {', '.join(spec.column_names)}{hint}"))
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    if missing:
        for column in missing:
            out.table(raw, "required column is missing", column=column, row=1)
        return None
    typed = pd.DataFrame(index=frame.index)
    for col in spec.columns:
        if col.name not in frame.columns:
            typed[col.name] = pd.Series(pd.NA, index=frame.index, dtype="object")
            continue
        values, bad, why = _convert(frame[col.name], col)
        out.rows(raw, bad, col.name, why)
        if col.type == "str":
            key = is_key_column(col.name) or col.name in spec.key
            for mask, text_why in text_problems(values, key):
                out.rows(raw, mask, col.name, text_why)
        if col.required:
            out.rows(raw, values.isna() & ~bad, col.name, "required value is empty")
        typed[col.name] = values
    for name, kind in declared.items():
        if name not in frame.columns:
            out.problems.append(Problem(raw.file, 1, name, f"declared {kind} attribute is "
                                        "missing from the table"))
            continue
        values, problems = attributes.convert(frame[name], kind)
        for mask, why in problems:
            out.rows(raw, mask, name, f"attribute {name} ({kind}): {why}", frame[name])
        typed[attributes.property_name(name)] = values
    if spec.key:
        keyed = typed[list(spec.key)]
        dup = keyed.duplicated(keep="first") & keyed.notna().all(axis=1)
        if dup.any():
            first_line = frame[LINE].groupby([typed[k] for k in spec.key]).transform("min")
            for column in spec.key[:1]:
                out.rows(raw, dup, column,
                         "duplicate key (first seen on line "
                         + ", ".join(sorted({str(v) for v in first_line[dup].head(3)})) + ")")
    # Tables without a key (events) may repeat a row: the mapper folds identical observations.
    if spec.name == "labels":
        bad_entity = ~typed["entity"].isin(list(schema.LABELLED_ENTITIES)) & typed["entity"].notna()
        out.rows(raw, bad_entity.fillna(False), "entity",
                 f"entity must be one of {sorted(schema.LABELLED_ENTITIES)}")
    return typed


def _isin(values: pd.Series, keys: pd.Series) -> pd.Series:
    """Which ``values`` occur in ``keys``: Arrow's hash lookup, with no Python strings.

    (``Series.isin`` on Arrow-backed strings goes through Python lists: minutes and GBs for
    the events of a million users.)
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(series: pd.Series) -> pa.ChunkedArray:
        return pa.chunked_array([pa.array(series.astype("string"), from_pandas=True)])

    keys = keys.dropna()
    if len(keys) == 0 or len(values) == 0:  # every referenced row rejected: nothing matches
        return pd.Series(False, index=values.index)
    found = pc.is_in(arrow(values), value_set=pc.unique(arrow(keys)))
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index)


def validate_tables(raw_tables: dict[str, RawTable], lenient: bool = False,
                    declared: attributes.Declaration | None = None) -> ValidationResult:
    """Check and type canonical raw tables.

    Args:
        raw_tables: canonical table name -> raw text table.
        lenient: drop unknown columns silently and keep the good rows; bad rows (and rows that
            reference them) are still listed as problems and left out of ``tables``.
        declared: the users' own attributes, table -> name -> kind
            (:mod:`graph_build.attributes`); typed as ``attr_<name>`` columns.

    Returns:
        The typed tables (only good rows), every problem found and the declared attributes.
    """
    declared = declared or {}
    out = _Collector()
    typed: dict[str, pd.DataFrame] = {}
    total = 0
    for name in schema.TABLE_ORDER:
        spec = schema.TABLES[name]
        raw = raw_tables.get(name)
        if raw is None:
            if not spec.optional:
                out.problems.append(Problem(f"{name}.csv", None, None, "required table is missing"))
            continue
        total += len(raw.frame)
        table = _check_table(raw, spec, out, lenient, declared.get(name))
        if table is None:
            continue
        # References resolve only to rows that survived their own checks.
        for fk in spec.foreign_keys:
            if fk.column not in table.columns or fk.table not in typed:
                if fk.required and fk.table not in typed and fk.table in raw_tables:
                    continue  # the referenced table failed as a whole: already reported
                if fk.required and fk.table not in raw_tables and fk.column in table.columns:
                    mask = table[fk.column].notna()
                    out.rows(raw, mask, fk.column, f"refers to {fk.table}, which is missing")
                continue
            target = typed[fk.table]
            key_col = schema.TABLES[fk.table].key[0]
            dangling = table[fk.column].notna() & ~_isin(table[fk.column], target[key_col])
            out.rows(raw, dangling.fillna(False), fk.column,
                     f"refers to a {key_col} that {fk.table} does not have (or rejected)")
        bad = out.bad_rows.get(name, set())
        typed[name] = table.drop(index=list(bad), errors="ignore") if bad else table
    rejected = sum(len(v) for v in out.bad_rows.values())
    present = {t: a for t, a in declared.items() if t in typed}
    return ValidationResult(typed, out.problems, rejected, total, attributes.to_labels(present))


def write_rejects(problems: list[Problem], raw_tables: dict[str, RawTable], path: Path) -> Path:
    """Write every problem with the offending row's original values to a CSV rejects file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lookup: dict[str, pd.DataFrame] = {}
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "row", "column", "why", "value", "raw_row"])
        for p in problems:
            raw_row = ""
            table = raw_tables.get(p.table or "")
            if table is not None and p.row is not None:
                if table.name not in lookup:
                    lookup[table.name] = table.frame.set_index(LINE, drop=True)
                frame = lookup[table.name]
                if p.row in frame.index:
                    record = frame.loc[[p.row]]
                    if SOURCE_FILE in record.columns:  # one line number in several files
                        same = record[record[SOURCE_FILE] == p.file]
                        record = (same if len(same) else record).drop(columns=[SOURCE_FILE])
                    record = record.iloc[0]
                    raw_row = json.dumps({k: (None if pd.isna(v) else str(v))
                                          for k, v in record.items()})
            writer.writerow([p.file, "" if p.row is None else p.row, p.column or "", p.why,
                             "" if p.value is None else p.value, raw_row])
    return path
