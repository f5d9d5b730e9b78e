"""YAML mappings: turn tables in any layout into the canonical tables.

A mapping names its source files and, for each canonical table, where its rows come from and
how each canonical column is computed::

    sources:
      tx: {file: transactions.csv}
      ident: {file: identity.csv}
      geo: {file: ip_ranges.csv}
    tables:
      orders:
        from: tx
        join: [{source: ident, key: TransactionID}]    # left joins on a shared column
        range_join: {table: geo, value: ip, start: start_ip, end: end_ip,
                     take: {ip_country: country}}      # the range each row's ip falls in
        where: "isFraud in [0, 1] and TransactionAmt > 0"   # keep only these rows
        columns:
          order_id: TransactionID                      # a source column, as text
          user_id: {template: "card-{card1}"}          # key composition
          amount: TransactionAmt
          created_at: {column: TransactionID, time: {unit: s, origin: "2017-12-01T00:00:00Z",
                       offset: -2987000}}              # numbers as a time after an origin
          placed: {column: when, format: "%d/%m/%Y %H:%M"}  # text times with an explicit format
          kind: {value: "card"}                        # a constant
          addr: {column: addr1, integer: true}         # "315.0" -> "315"
        attributes:                                    # the users' own typed columns
          product_code: categorical                    # from the source column of that name
          c1: {kind: numeric, column: C1}              # or any column spec plus its kind
          ip_country: categorical                      # a range join's column
      devices:
        from: ident
        distinct: [device_id]                          # an entity = distinct values of a column
        where_present: [device_id]                     # skip rows where it is blank
        columns: {device_id: DeviceInfo}
      users:                                           # several specs: rows concatenated
        - {from: buyers, columns: {user_id: bid, created_at: joined}, distinct: [user_id]}
        - {from: sellers, columns: {user_id: sid, created_at: since}, distinct: [user_id]}

Only ``users`` and ``orders`` are required. Attribute kinds are numeric, categorical, boolean
and time (see :mod:`graph_build.attributes`); filters are described in
:mod:`graph_build.layouts_expr`, joins in :mod:`graph_build.layouts_join`. With several specs
``distinct`` holds within each spec, and across them when all specs name the same columns.

Every produced row keeps the line number (and, when specs read different files, the file) of
the source row it came from, so validation problems point into the file a person has. Output
columns are text; validation types them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from graph_build import attributes, schema
from graph_build.errors import MappingError
from graph_build.layouts_columns import column_values, require
from graph_build.layouts_expr import apply_filter
from graph_build.layouts_join import left_joins, range_join, source_of
from graph_build.tables import LINE, RawTable, read_table
from graph_build.validate import SOURCE_FILE

SPEC_KEYS = {"from", "columns", "join", "range_join", "where", "where_present", "distinct",
             "attributes"}


def _attribute_specs(spec: dict, table: str, where: str) -> dict[str, tuple[str, Any]]:
    """``attributes:`` of one spec -> name -> (kind, column spec)."""
    raw = spec.get("attributes") or {}
    require(isinstance(raw, dict), where, "attributes map names to a kind or {kind, column…}")
    require(not raw or table in attributes.TABLE_LABELS, where,
            f"attributes go on node tables only ({', '.join(attributes.TABLE_LABELS)})")
    out: dict[str, tuple[str, Any]] = {}
    for name, value in raw.items():
        attributes.check_name(name, where)
        if isinstance(value, dict):
            value = dict(value)
            kind = attributes.check_kind(value.pop("kind", None), f"{where}.{name}")
            out[name] = (kind, value or name)
        else:
            out[name] = (attributes.check_kind(value, f"{where}.{name}"), name)
    return out


def _specs(name: str, spec: Any) -> list[tuple[str, dict]]:
    """The (location, spec) pairs of a table: one spec, or a list of them."""
    where = f"tables.{name}"
    require(name in schema.TABLES, where,
            f"not a canonical table; choose from {sorted(schema.TABLES)}")
    specs = spec if isinstance(spec, list) else [spec]
    require(bool(specs), where, "an empty list of specs")
    out = []
    for i, one in enumerate(specs):
        w = f"{where}[{i}]" if isinstance(spec, list) else where
        require(isinstance(one, dict) and "from" in one and "columns" in one, w,
                "needs 'from' and 'columns'")
        unknown = set(one) - SPEC_KEYS
        require(not unknown, w, f"unknown keys {sorted(unknown)}; use {sorted(SPEC_KEYS)}")
        out.append((w, one))
    return out


def _one_spec(name: str, where: str, spec: dict,
              sources: dict[str, RawTable]) -> tuple[RawTable, list[str] | None]:
    base = source_of(spec["from"], sources, f"{where}.from")
    frame = base.frame
    if spec.get("join"):
        frame = left_joins(frame, spec["join"], sources, f"{where}.join")
    if spec.get("range_join"):
        frame = range_join(frame, spec["range_join"], sources, f"{where}.range_join")
    if spec.get("where") is not None:
        frame = apply_filter(frame, spec["where"], f"{where}.where")
    columns = spec["columns"]
    require(isinstance(columns, dict) and columns, f"{where}.columns", "must be a mapping")
    out = pd.DataFrame(index=frame.index)
    for column, col_spec in columns.items():
        out[column] = column_values(frame, col_spec, f"{where}.columns.{column}")
    for attr, (_kind, col_spec) in _attribute_specs(spec, name, f"{where}.attributes").items():
        out[attr] = column_values(frame, col_spec, f"{where}.attributes.{attr}")
    out[LINE] = frame[LINE].to_numpy()
    for column in spec.get("where_present") or []:
        require(column in out.columns, f"{where}.where_present", f"no column {column!r}")
        out = out[out[column].notna()]
    keys = None
    if spec.get("distinct"):
        keys = list(spec["distinct"])
        require(set(keys) <= set(out.columns), f"{where}.distinct", "unknown columns")
        out = out.drop_duplicates(subset=keys, keep="first")
    return RawTable(name, base.file, out.reset_index(drop=True)), keys


def _table(name: str, spec: Any, sources: dict[str, RawTable]) -> RawTable:
    parts = [_one_spec(name, w, one, sources) for w, one in _specs(name, spec)]
    if len(parts) == 1:
        return parts[0][0]
    files = {p.file for p, _ in parts}
    frames = []
    for part, _ in parts:
        frame = part.frame
        if len(files) > 1:  # line numbers alone would be ambiguous: keep each row's file
            frame = frame.assign(**{SOURCE_FILE: part.file})
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    keys = [k for _, k in parts]
    if keys[0] and all(k == keys[0] for k in keys):
        frame = frame.drop_duplicates(subset=keys[0], keep="first").reset_index(drop=True)
    return RawTable(name, " + ".join(sorted(files)), frame)


def read_declaration(data_dir: str | Path,
                     mapping: str | Path | None = None) -> attributes.Declaration:
    """The users' own attributes (table -> name -> kind): the mapping's ``attributes:``, or
    ``DATA_DIR/attributes.yaml`` beside canonical tables when there is no mapping."""
    if mapping:
        return mapping_declaration(mapping)
    return attributes.folder_declaration(data_dir)


def mapping_declaration(mapping: str | Path) -> attributes.Declaration:
    """The attributes a mapping declares: table -> name -> kind (specs of a table combined).

    Raises:
        MappingError: a bad name or kind, or one name with two kinds in a table's specs.
    """
    doc = load_mapping(mapping)
    out: attributes.Declaration = {}
    for name, spec in doc["tables"].items():
        for where, one in _specs(name, spec):
            for attr, (kind, _) in _attribute_specs(one, name, f"{where}.attributes").items():
                have = out.setdefault(name, {})
                require(have.get(attr, kind) == kind, f"{where}.attributes.{attr}",
                        f"is {kind} here but {have.get(attr)} in another spec of {name}")
                have[attr] = kind
    return out


def load_mapping(path: str | Path) -> dict:
    """Parse a mapping file and check its top-level shape."""
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"{path}: no such mapping file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise MappingError(f"{path}: not valid YAML: {e}") from e
    require(isinstance(doc, dict) and isinstance(doc.get("sources"), dict)
            and isinstance(doc.get("tables"), dict), str(path),
            "needs top-level 'sources' and 'tables' mappings")
    return doc


def source_path(folder: Path, file: Any, where: str, allow_outside: bool = False) -> Path:
    """Where a source ``file`` of a mapping is: inside the data folder, unless allowed otherwise.

    Why: a mapping is a file people pass around; ``file: /etc/passwd`` or ``../../x`` must not
    read (and echo lines of) files outside the data the user pointed the build at.
    """
    require(isinstance(file, str) and file.strip() != "", where, "'file' must be a file name")
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
        require(isinstance(spec, dict) and "file" in spec, where, "needs 'file'")
        sources[name] = read_table(source_path(folder, spec["file"], f"{where}.file",
                                               allow_outside), name)
    return {name: _table(name, spec, sources) for name, spec in doc["tables"].items()}
