"""Validate raw input tables against the canonical schema before anything is written.

Checks: required tables and columns, unknown columns, types (text -> time / number / bool),
out-of-range times and amounts, missing required values, duplicate keys and dangling
references. Every problem is located (file, row, column, why). Validation is vectorised per
column; a bad row is remembered once with all its reasons.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from graph_build import attributes, schema
from graph_build.errors import Problem
from graph_build.tables import LINE, RawTable
from graph_build.value_checks import is_key_column, text_problems
# Re-exported: callers import the time window and parsers from here.
from graph_build.value_types import (  # noqa: F401
    FALSE_WORDS,
    FUTURE_SLACK_MS,
    MIN_TIME_MS,
    TRUE_WORDS,
    convert,
    epoch_ms,
    parse_times,
)

__all__ = ["FALSE_WORDS", "FUTURE_SLACK_MS", "MIN_TIME_MS", "Problem", "SOURCE_FILE",
           "TRUE_WORDS", "ValidationResult", "epoch_ms", "parse_times", "validate_tables",
           "write_rejects"]

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
    #: Label rows whose id is in none of this input's tables, per entity ("user": 3): kept (an
    #: earlier build may have that node) but counted, so a typo'd labels file is seen.
    unknown_labels: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


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
        values, found = convert(frame[col.name], col)
        bad = pd.Series(False, index=frame.index)
        for mask, why in found:
            out.rows(raw, mask, col.name, why)
            bad |= mask
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
    return ValidationResult(typed, out.problems, rejected, total, attributes.to_labels(present),
                            _unknown_labels(typed))


def _unknown_labels(typed: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Per entity, how many label rows name an id that this input's own table lacks."""
    labels = typed.get("labels")
    if labels is None or not len(labels):
        return {}
    counts = {}
    for entity, label in schema.LABELLED_ENTITIES.items():
        ids = labels.loc[labels["entity"] == entity, "id"]
        table = next((t for t, spec in schema.TABLES.items()
                      if spec.key == (schema.node(label).key,)), None)
        keys = typed[table][schema.node(label).key] if table in typed else pd.Series([], dtype=str)
        unknown = int((~_isin(ids, keys)).sum()) if len(ids) else 0
        if unknown:
            counts[entity] = unknown
    return counts


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
