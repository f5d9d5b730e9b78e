"""The users' own typed columns ("attributes") on node tables: declaration, names and values.

A mapping (or, for a folder of canonical tables, an ``attributes.yaml`` beside them) declares
extra columns per node table, each with a kind::

    users: {age: numeric, sex: categorical, is_vip: boolean, first_visit: time}

Names must be identifiers (``^[a-z][a-z0-9_]{0,40}$``) that are not schema or scoring property
names. In the graph each is stored as the property ``attr_<name>`` (the prefix means an
attribute can never shadow a property the product writes), and the declaration itself is
stored in the graph (:data:`SCHEMA_LABEL` node) so training and scoring know each kind.
Property names built here are the only attribute identifiers that reach Cypher text or
queries, and only after :func:`check_name`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml

from graph_build import schema
from graph_build.errors import MappingError
from graph_build.value_checks import text_problems

Kind = Literal["numeric", "categorical", "boolean", "time"]
KINDS: tuple[str, ...] = ("numeric", "categorical", "boolean", "time")
PREFIX = "attr_"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
#: The graph node holding the declaration (one per graph, keyed by ``name``).
SCHEMA_LABEL = "GraphSchema"
SCHEMA_NAME = "attributes"
#: File with the declaration for a folder of canonical tables (no mapping).
FOLDER_FILE = "attributes.yaml"

#: Canonical node tables that may carry attributes, and the label each becomes.
TABLE_LABELS: dict[str, str] = {
    "users": "User",
    "orders": "Order",
    "products": "Product",
    "devices": "Device",
    "addresses": "Address",
    "payments": "PaymentMethod",
}

# Names an attribute may not take: everything the schema and scoring already name, plus the
# internal columns of rows and frames (an attribute called "verdict" would read as a label).
RESERVED: frozenset[str] = frozenset(
    {c.name for t in schema.TABLES.values() for c in t.columns}
    | {n.key for n in schema.NODES.values()}
    | {p for n in schema.NODES.values() for p in n.properties}
    | {p for r in schema.RELATIONSHIPS.values() for p in r.properties}
    | set(schema.AGGREGATE_PROPS) | set(schema.SCORING_PROPERTIES)
    | {"ingest_seq", "times", "src", "dst", "key", "props", "value", "label", "line",
       "attributes_json", "id", "entity", "verdict", "reasons", "anomaly_score"}
)

MAX_TEXT = 200
# Times before 1900 are typos; a time attribute may be older than the graph (a birthday).
MIN_TIME_MS = -2_208_988_800_000
FUTURE_SLACK_MS = 366 * 24 * 3600 * 1000
MAX_ABS = 1e15

Declaration = dict[str, dict[str, str]]  # table (or label) -> name -> kind


def property_name(name: str) -> str:
    """The graph property of attribute ``name`` (``age`` -> ``attr_age``); checks the name."""
    return PREFIX + check_name(name)


def check_name(name: object, where: str = "attribute") -> str:
    """Return ``name`` if it may name an attribute, else raise a located :class:`MappingError`."""
    if not isinstance(name, str) or not NAME.match(name):
        raise MappingError(f"{where}: attribute name {name!r} is not an identifier",
                           hint="lower-case letter first, then lower-case letters, digits or "
                                "_ (at most 41 characters)")
    if name in RESERVED:
        raise MappingError(f"{where}: attribute name {name!r} is taken by the schema",
                           hint="rename it (e.g. user_" + name + "); schema and scoring "
                                "properties cannot be attributes")
    return name


def check_kind(kind: object, where: str) -> str:
    """Return ``kind`` if it is an attribute kind, else raise a located :class:`MappingError`."""
    if kind not in KINDS:
        raise MappingError(f"{where}: unknown attribute kind {kind!r}",
                           hint=f"choose one of {', '.join(KINDS)}")
    return str(kind)


def check_declaration(doc: object, where: str) -> Declaration:
    """Validate ``{table: {name: kind}}``; tables must be node tables."""
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise MappingError(f"{where}: must map tables to {{name: kind}}")
    out: Declaration = {}
    for table, attrs in doc.items():
        if table not in TABLE_LABELS:
            raise MappingError(f"{where}.{table}: attributes go on node tables only",
                               hint=f"one of {', '.join(TABLE_LABELS)}")
        if not isinstance(attrs, Mapping):
            raise MappingError(f"{where}.{table}: must map attribute names to kinds")
        out[table] = {check_name(n, f"{where}.{table}"): check_kind(k, f"{where}.{table}.{n}")
                      for n, k in attrs.items()}
    return out


def folder_declaration(data_dir: str | Path) -> Declaration:
    """The declaration in ``DATA_DIR/attributes.yaml`` (canonical tables), or none."""
    path = Path(data_dir) / FOLDER_FILE
    if not path.is_file():
        return {}
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise MappingError(f"{path}: not valid YAML: {e}") from e
    return check_declaration(doc, str(path))


def to_labels(declaration: Declaration) -> Declaration:
    """Table-keyed declaration -> label-keyed (``users`` -> ``User``), empty tables dropped."""
    return {TABLE_LABELS[t]: dict(a) for t, a in declaration.items() if a}


def merge(old: Declaration, new: Declaration) -> Declaration:
    """The union of two label-keyed declarations; one name with two kinds is an error.

    Why: a graph built in several runs keeps one meaning per property, or features computed
    before and after a later build would disagree.
    """
    out = {label: dict(attrs) for label, attrs in old.items()}
    for label, attrs in new.items():
        have = out.setdefault(label, {})
        for name, kind in attrs.items():
            if have.get(name, kind) != kind:
                raise MappingError(
                    f"attribute {label}.{name} is {kind} here but {have[name]} in the graph",
                    hint="keep one kind per attribute, or rename the new one")
            have[name] = kind
    return out


def to_json(declaration: Declaration) -> str:
    """The declaration as stored in the graph (sorted, so equal declarations are equal text)."""
    return json.dumps(declaration, sort_keys=True)


def from_json(text: str | None) -> Declaration:
    """A declaration read from the graph, checked again: names from a store are data too."""
    if not text:
        return {}
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise MappingError(f"the graph's attribute declaration is not JSON: {e}") from e
    if not isinstance(doc, dict):
        raise MappingError("the graph's attribute declaration is not a mapping")
    out: Declaration = {}
    for label, attrs in doc.items():
        if label not in schema.NODES or not isinstance(attrs, dict):
            raise MappingError(f"the graph's attribute declaration names {label!r}")
        out[label] = {check_name(n, f"graph {label}"): check_kind(k, f"graph {label}.{n}")
                      for n, k in attrs.items()}
    return out


# The words graph_build.validate accepts for booleans (kept equal; validate imports this module).
TRUE_WORDS = {"1", "true", "t", "yes", "y", "1.0"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "0.0"}


def _parse_times(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Epoch ms of integer text (epoch ms) or ISO-8601 text; (values, mask of unparsable)."""
    out = pd.Series(pd.NA, index=text.index, dtype="Int64")
    numeric = text.str.fullmatch(r"-?\d+", na=False).astype(bool)
    if numeric.any():
        out[numeric] = pd.to_numeric(text[numeric], errors="coerce").astype("Int64")
    rest = text.notna() & ~numeric
    if rest.any():
        parsed = pd.to_datetime(text[rest], format="ISO8601", utc=True, errors="coerce")
        ms = parsed.dt.tz_convert(None).to_numpy().astype("datetime64[ms]").astype("int64")
        out[rest] = pd.Series(ms, index=parsed.index, dtype="Int64").where(parsed.notna())
    return out, (text.notna() & out.isna()).astype(bool)


def convert(values: pd.Series, kind: str) -> tuple[pd.Series, list[tuple[pd.Series, str]]]:
    """Type one text column of an attribute: (typed values, [(mask of bad values, why)]).

    numeric -> Float64, boolean -> boolean, time -> Int64 epoch ms (ISO-8601 or epoch ms),
    categorical -> string. Missing values stay missing and are never bad; bad ones become
    missing in the typed values.
    """
    text = values.astype("string").str.strip().replace("", pd.NA)
    present = text.notna()
    problems: list[tuple[pd.Series, str]] = []
    if kind == "numeric":
        out = pd.to_numeric(text, errors="coerce").astype("Float64")
        bad = present & (out.isna() | (out.abs() > MAX_ABS)).fillna(True)
        problems.append((bad, f"not a finite number (|x| <= {MAX_ABS:g})"))
    elif kind == "boolean":
        low = text.str.lower()
        truthy = low.isin(TRUE_WORDS).fillna(False).astype(bool)
        falsy = low.isin(FALSE_WORDS).fillna(False).astype(bool)
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[truthy] = True
        out[falsy] = False
        problems.append((present & ~(truthy | falsy), "not a boolean (0/1, true/false, yes/no)"))
    elif kind == "time":
        out, unparsed = _parse_times(text)
        top = int(time.time() * 1000) + FUTURE_SLACK_MS
        outside = (out.notna() & ((out < MIN_TIME_MS) | (out > top))).fillna(False)
        problems.append((unparsed | outside,
                         "not a time (ISO-8601, or epoch ms, between 1900 and next year)"))
    elif kind == "categorical":
        out = text
        problems.append(((text.str.len() > MAX_TEXT).fillna(False),
                         f"longer than {MAX_TEXT} characters"))
        problems.extend(text_problems(text, key=False))
    else:
        raise ValueError(f"unknown attribute kind {kind!r}")
    problems = [(mask.astype(bool), why) for mask, why in problems if mask.any()]
    for mask, _ in problems:
        out = out.mask(mask)
    return out, problems


_DTYPE_KINDS = {"Float64": "numeric", "float64": "numeric", "boolean": "boolean",
                "bool": "boolean", "Int64": "time", "int64": "time"}


def kinds_from_columns(frame: pd.DataFrame) -> dict[str, str]:
    """Attribute kinds of a typed frame's ``attr_*`` columns, read from their dtypes.

    Validation gives each kind one dtype (Float64, boolean, Int64 epoch ms, string), which
    survives Parquet caches; used where a declaration did not travel with the frame.
    """
    out: dict[str, str] = {}
    for column in frame.columns:
        if not (isinstance(column, str) and column.startswith(PREFIX)):
            continue
        name = column[len(PREFIX):]
        if not NAME.match(name):
            continue
        out[name] = _DTYPE_KINDS.get(str(frame[column].dtype), "categorical")
    return out


def columns(declaration: Mapping[str, str]) -> list[str]:
    """The graph property names of a label's declared attributes, in a stable order."""
    return [property_name(n) for n in sorted(declaration)]
