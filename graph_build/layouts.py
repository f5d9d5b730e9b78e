"""YAML mappings: turn tables in any layout into the canonical tables.

A mapping names its source files and, for each canonical table, where its rows come from and
how each canonical column is computed::

    sources:
      tx: {file: transactions.csv}
      ident: {file: identity.csv}
    tables:
      orders:
        from: tx
        join: [{source: ident, key: TransactionID}]    # left joins on a shared column
        columns:
          order_id: TransactionID                      # a source column, as text
          user_id: {template: "card-{card1}"}          # key composition
          amount: TransactionAmt
          created_at: {column: TransactionID, time: {unit: s, origin: "2017-12-01T00:00:00Z",
                       offset: -2987000}}              # numbers as a time after an origin
          placed: {column: when, format: "%d/%m/%Y %H:%M"}  # text times with an explicit format
          kind: {value: "card"}                        # a constant
          addr: {column: addr1, integer: true}         # "315.0" -> "315"
      devices:
        from: ident
        distinct: [device_id]                          # an entity = distinct values of a column
        where_present: [device_id]                     # skip rows where it is blank
        columns: {device_id: DeviceInfo}

Every produced row keeps the line number of the source row it came from, so validation
problems point into the file a person has. Output columns are text; validation types them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from graph_build import schema
from graph_build.errors import MappingError
from graph_build.tables import LINE, RawTable, read_table
from graph_build.validate import epoch_ms

_FIELD = re.compile(r"\{([^{}]+)\}")
COLUMN_KEYS = {"column", "template", "value", "time", "format", "integer"}


def _require(cond: bool, where: str, why: str) -> None:
    if not cond:
        raise MappingError(f"{where}: {why}", hint="see graph_build/layouts.py for the format")


def _source_column(frame: pd.DataFrame, column: str, where: str) -> pd.Series:
    _require(column in frame.columns, where,
             f"source has no column {column!r} (it has {', '.join(map(str, frame.columns))})")
    return frame[column].astype("string").str.strip().replace("", pd.NA)


def _integer_text(values: pd.Series) -> pd.Series:
    """Codes stored as floats ("315.0") back to integer text ("315")."""
    num = pd.to_numeric(values, errors="coerce")
    whole = num.notna() & (num % 1 == 0)
    out = values.copy()
    out[whole] = num[whole].astype("int64").astype("string")
    return out


def _time_from_numbers(values: pd.Series, spec: dict, where: str) -> pd.Series:
    unit = spec.get("unit", "s")
    scale = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    _require(unit in scale, where, f"time unit must be one of {sorted(scale)}")
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


def _column_values(frame: pd.DataFrame, spec: Any, where: str) -> pd.Series:
    """Compute one canonical column from a source frame."""
    if isinstance(spec, str):
        return _source_column(frame, spec, where)
    _require(isinstance(spec, dict), where, "a column is a source column name or a mapping")
    unknown = set(spec) - COLUMN_KEYS
    _require(not unknown, where, f"unknown keys {sorted(unknown)}; use {sorted(COLUMN_KEYS)}")
    if "value" in spec:
        return pd.Series(str(spec["value"]), index=frame.index, dtype="string")
    if "template" in spec:
        template = str(spec["template"])
        fields = _FIELD.findall(template)
        _require(bool(fields), where, "a template needs at least one {column}")
        parts = {f: _source_column(frame, f, where) for f in fields}
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
    _require("column" in spec, where, "needs one of column, template or value")
    values = _source_column(frame, spec["column"], where)
    if spec.get("integer"):
        values = _integer_text(values)
    if "time" in spec:
        values = _time_from_numbers(values, spec["time"] or {}, where)
    elif "format" in spec:
        values = _time_from_text(values, str(spec["format"]))
    return values


def _source_frame(name: str, sources: dict[str, RawTable], where: str) -> RawTable:
    _require(name in sources, where, f"unknown source {name!r} (have {sorted(sources)})")
    return sources[name]


def _table(name: str, spec: dict, sources: dict[str, RawTable]) -> RawTable:
    where = f"tables.{name}"
    _require(name in schema.TABLES, where,
             f"not a canonical table; choose from {sorted(schema.TABLES)}")
    _require(isinstance(spec, dict) and "from" in spec and "columns" in spec, where,
             "needs 'from' and 'columns'")
    base = _source_frame(spec["from"], sources, f"{where}.from")
    frame = base.frame
    for i, join in enumerate(spec.get("join") or []):
        jwhere = f"{where}.join[{i}]"
        _require(isinstance(join, dict) and {"source", "key"} <= set(join), jwhere,
                 "needs 'source' and 'key' (not 'on': YAML reads it as true)")
        other = _source_frame(join["source"], sources, jwhere).frame.drop(columns=[LINE])
        on = join["key"]
        _require(on in frame.columns and on in other.columns, jwhere,
                 f"both sides need column {on!r}")
        # Keep the first match so a join never multiplies the base rows.
        other = other.drop_duplicates(subset=[on], keep="first")
        frame = frame.merge(other, on=on, how="left", suffixes=("", f"_{join['source']}"))
    columns = spec["columns"]
    _require(isinstance(columns, dict) and columns, f"{where}.columns", "must be a mapping")
    out = pd.DataFrame(index=frame.index)
    for column, col_spec in columns.items():
        out[column] = _column_values(frame, col_spec, f"{where}.columns.{column}")
    out[LINE] = frame[LINE].to_numpy()
    for column in spec.get("where_present") or []:
        _require(column in out.columns, f"{where}.where_present", f"no column {column!r}")
        out = out[out[column].notna()]
    if spec.get("distinct"):
        keys = list(spec["distinct"])
        _require(set(keys) <= set(out.columns), f"{where}.distinct", "unknown columns")
        out = out.drop_duplicates(subset=keys, keep="first")
    return RawTable(name, base.file, out.reset_index(drop=True))


def load_mapping(path: str | Path) -> dict:
    """Parse a mapping file and check its top-level shape."""
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"{path}: no such mapping file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise MappingError(f"{path}: not valid YAML: {e}") from e
    _require(isinstance(doc, dict) and isinstance(doc.get("sources"), dict)
             and isinstance(doc.get("tables"), dict), str(path),
             "needs top-level 'sources' and 'tables' mappings")
    return doc


def source_path(folder: Path, file: Any, where: str, allow_outside: bool = False) -> Path:
    """Where a source ``file`` of a mapping is: inside the data folder, unless allowed otherwise.

    Why: a mapping is a file people pass around; ``file: /etc/passwd`` or ``../../x`` must not
    read (and echo lines of) files outside the data the user pointed the build at.
    """
    _require(isinstance(file, str) and file.strip() != "", where, "'file' must be a file name")
    path = (folder / file).resolve()
    if not allow_outside and not path.is_relative_to(folder.resolve()):
        raise MappingError(f"{where}: {file!r} is outside the data folder {folder}",
                           hint="put the file in the data folder (absolute paths and '..' "
                                "need allow_outside_paths=True)")
    return path


def apply_mapping(mapping: str | Path, data_dir: str | Path,
                  allow_outside: bool = False) -> dict[str, RawTable]:
    """Read the source files of ``mapping`` from ``data_dir`` and produce canonical raw tables.

    Args:
        mapping: the YAML mapping file.
        data_dir: the folder its source files are in.
        allow_outside: let source files lie outside ``data_dir`` (absolute paths, ``..``).

    Raises:
        MappingError: the mapping is malformed, names columns the sources lack, or a source
            file outside the data folder.
        ValidationError: a source file is missing, empty or not UTF-8.
    """
    doc = load_mapping(mapping)
    folder = Path(data_dir)
    sources: dict[str, RawTable] = {}
    for name, spec in doc["sources"].items():
        where = f"sources.{name}"
        _require(isinstance(spec, dict) and "file" in spec, where, "needs 'file'")
        sources[name] = read_table(source_path(folder, spec["file"], f"{where}.file",
                                               allow_outside), name)
    return {name: _table(name, spec, sources) for name, spec in doc["tables"].items()}
