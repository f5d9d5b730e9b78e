"""A seeded generator of corrupted input: ~50 kinds of bad tables, each with where it must be found.

Each kind takes a clean set of canonical tables (text frames, ``None`` for missing) and a seeded
``random.Random``, corrupts one place (the row, the value and sometimes the table or column are
drawn), and returns an :class:`Expect`: the file, line, column and a part of the reason a
build must report. Kinds work on frames (then written as CSV or as Parquet), on a CSV file's
bytes (encodings, delimiters, ragged rows …) or on a Parquet file's types.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from graph_build import schema

CSV, PARQUET = "csv", "parquet"
BOTH = (CSV, PARQUET)


@dataclass(frozen=True)
class Expect:
    """Where a problem must be reported. ``pos``: 0-based data row (the line follows the
    format); ``line``: an exact line; neither: the file as a whole."""

    table: str
    why: str
    column: str | None = None
    pos: int | None = None
    line: int | None = None

    def line_in(self, fmt: str) -> int | None:
        if self.line is not None:
            return self.line
        if self.pos is None:
            return None
        return self.pos + (2 if fmt == CSV else 1)  # CSV: the header is line 1


@dataclass
class Case:
    """The tables of one data folder: frames, or exact bytes for a file (which win)."""

    frames: dict[str, pd.DataFrame]
    fmt: str
    raw: dict[str, bytes] = field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames.items():
            if f"{name}.{self.fmt}" not in self.raw:
                data = csv_bytes(frame) if self.fmt == CSV else parquet_bytes(frame)
                (folder / f"{name}.{self.fmt}").write_bytes(data)
        for file, data in self.raw.items():
            (folder / file).write_bytes(data)
        return folder


def csv_bytes(frame: pd.DataFrame, sep: str = ",") -> bytes:
    return frame.to_csv(index=False, sep=sep, lineterminator="\n").encode("utf-8")


def parquet_bytes(frame: pd.DataFrame | pa.Table) -> bytes:
    """Text columns as Parquet strings (``None`` = null); an Arrow table as it is."""
    table = frame if isinstance(frame, pa.Table) else pa.table(
        {c: pa.array(frame[c].tolist(), pa.string()) for c in frame.columns})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


@dataclass(frozen=True)
class Kind:
    name: str
    table: str  # the table it corrupts (combinations corrupt distinct tables)
    formats: tuple[str, ...]
    apply: Callable[[Case, random.Random], Expect]
    value_level: bool = False  # one cell: several can be combined in one input


KINDS: list[Kind] = []


def kind(name: str, table: str, formats: tuple[str, ...] = BOTH, value_level: bool = False):
    def register(fn: Callable[[Case, random.Random], Expect]):
        KINDS.append(Kind(name, table, formats, fn, value_level))
        return fn

    return register


def _cell(case: Case, rng: random.Random, table: str, column: str, value: str | None,
          why: str) -> Expect:
    frame = case.frames[table]
    pos = rng.randrange(len(frame))
    frame.iat[pos, frame.columns.get_loc(column)] = value
    return Expect(table, why, column, pos)


def value_kind(name: str, table: str, column: str, values: list, why: str) -> None:
    """A kind that puts one of ``values`` (drawn) into one drawn cell of ``table.column``."""
    kind(name, table, value_level=True)(
        lambda case, rng: _cell(case, rng, table, column, rng.choice(values), why))


# -- wrong types, numbers out of bounds -------------------------------------------------------
value_kind("text_in_amount", "orders", "amount", ["abc", "12,50", "$12", "1.2.3", "12 EUR"],
           "not a number")
value_kind("bool_in_amount", "orders", "amount", ["true", "False", "yes"], "not a number")
value_kind("float_quantity", "order_items", "quantity", ["2.5", "0.1"], "not an integer")
value_kind("huge_quantity", "order_items", "quantity", ["1e7", "99999999999999999999"],
           "<= 1e+06")
value_kind("zero_quantity", "order_items", "quantity", ["0", "-3"], ">= 1")
value_kind("negative_amount", "orders", "amount", ["-0.01", "-1e5"], ">= 0")
value_kind("huge_amount", "orders", "amount", ["1e300", "2e9", "1E+10"], "<= 1e+09")
value_kind("huge_price", "products", "price", ["1e20", "5e9"], "<= 1e+09")
value_kind("nan_amount", "orders", "amount", ["NaN", "nan", "NAN"], "not a number")
value_kind("inf_amount", "orders", "amount", ["inf", "-inf", "Infinity"], "not a number")
value_kind("bad_boolean", "labels", "is_fraud", ["maybe", "2", "ja"], "not a boolean")
value_kind("bad_entity", "labels", "entity", ["shop", "User ", "device"], "entity must be")
# -- times ------------------------------------------------------------------------------------
value_kind("unparsable_time", "users", "created_at",
           ["yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "NULL", "01/02/2026"],
           "not a time")
value_kind("far_future_time", "orders", "created_at", ["2207-01-01T00:00:00Z", "9999-12-31"],
           "not a time")
value_kind("before_2000_time", "events", "ts", ["1999-12-31T23:59:59Z", "1970-01-01"],
           "not a time")
value_kind("epoch_seconds_time", "orders", "created_at", ["1767225600", "1700000000"],
           "not a time")
value_kind("mixed_epoch_iso", "events", "ts", ["1767225600000", "1767312000123"],
           "mixed time forms")
# -- missing values, keys ---------------------------------------------------------------------
value_kind("missing_required_ref", "orders", "user_id", [None], "required value is empty")
value_kind("missing_required_time", "users", "created_at", [None], "required value is empty")
value_kind("missing_required_amount", "orders", "amount", [None], "required value is empty")
value_kind("missing_required_event_user", "events", "user_id", [None],
           "required value is empty")
value_kind("nul_in_text", "users", "country", ["D\x00E", "\x00"], "control character")
value_kind("control_in_key", "events", "device_id", ["d\x1b1", "d\x7f", "\x01d", "\td"],
           "control character")
value_kind("newline_in_key", "orders", "order_id", ["o1\nx", "o\r\n2"], "control character")
value_kind("very_long_text", "users", "email_domain", ["x" * 100_000], "too long")
value_kind("dangling_user", "orders", "user_id", ["u9999999", "nobody"], "refers to")
value_kind("dangling_product", "order_items", "product_id", ["p9999999"], "refers to")
value_kind("dangling_optional_ref", "orders", "payment_id", ["pm9999999"], "refers to")
value_kind("dangling_event_user", "events", "user_id", ["u0000000"], "refers to")


def _edge_space(case: Case, rng: random.Random, table: str, column: str) -> Expect:
    frame = case.frames[table]
    pos = rng.randrange(len(frame))
    col = frame.columns.get_loc(column)
    # (A tab is a control character in a key, reported as that: see control_in_key.)
    space = rng.choice([" ", "  ", "\u00a0", "\u3000", "\u200b", "\ufeff"])
    value = str(frame.iat[pos, col])
    frame.iat[pos, col] = rng.choice([space + value, value + space])
    return Expect(table, "whitespace", column, pos)


kind("edge_space_key", "users", value_level=True)(
    lambda case, rng: _edge_space(case, rng, "users", "user_id"))
kind("edge_space_ref", "orders", value_level=True)(
    lambda case, rng: _edge_space(case, rng, "orders", "user_id"))
kind("edge_space_entity_key", "devices", value_level=True)(
    lambda case, rng: _edge_space(case, rng, "devices", "device_id"))
kind("whitespace_only_key", "products", value_level=True)(
    lambda case, rng: _cell(case, rng, "products", "product_id", rng.choice([" ", "   "]),
                            "whitespace"))


@kind("very_long_key", "users", value_level=True)
def _long_key(case: Case, rng: random.Random) -> Expect:
    return _cell(case, rng, "users", "user_id", "u" * rng.choice([300, 5000]), "too long")


@kind("duplicate_key", "users", value_level=True)
def _duplicate_key(case: Case, rng: random.Random) -> Expect:
    frame = case.frames["users"]
    first, dup = sorted(rng.sample(range(len(frame)), 2))
    frame.iat[dup, 0] = frame.iat[first, 0]
    return Expect("users", "duplicate key", "user_id", dup)


@kind("duplicate_composite_key", "order_items", value_level=True)
def _duplicate_row(case: Case, rng: random.Random) -> Expect:
    frame = case.frames["order_items"]
    copy = frame.iloc[[rng.randrange(len(frame))]]
    case.frames["order_items"] = pd.concat([frame, copy], ignore_index=True)
    return Expect("order_items", "duplicate key", "order_id", len(frame))


# -- columns and whole tables -----------------------------------------------------------------
@kind("unknown_column", "users")
def _unknown_column(case: Case, rng: random.Random) -> Expect:
    name = rng.choice(["colour", "user_id2", "Country"])
    case.frames["users"][name] = "x"
    return Expect("users", "unknown column", name, line=1)


@kind("missing_column", "orders")
def _missing_column(case: Case, rng: random.Random) -> Expect:
    column = rng.choice(["amount", "user_id", "created_at", "order_id"])
    case.frames["orders"] = case.frames["orders"].drop(columns=[column])
    return Expect("orders", "required column is missing", column, line=1)


@kind("wrong_case_header", "users")
def _wrong_case(case: Case, rng: random.Random) -> Expect:
    case.frames["users"] = case.frames["users"].rename(columns={"user_id": "User_ID"})
    return Expect("users", "required column is missing", "user_id", line=1)


@kind("header_only", "users")
def _header_only(case: Case, rng: random.Random) -> Expect:
    table = rng.choice(["users", "orders"])
    case.frames[table] = case.frames[table].iloc[:0]
    return Expect(table, "no data rows")


@kind("missing_required_table", "orders")
def _missing_table(case: Case, rng: random.Random) -> Expect:
    table = rng.choice([n for n, spec in schema.TABLES.items() if not spec.optional])
    del case.frames[table]
    return Expect(table, "required table is missing")


@kind("both_forms", "users")
def _both_forms(case: Case, rng: random.Random) -> Expect:
    other = PARQUET if case.fmt == CSV else CSV
    frame = case.frames["users"]
    case.raw[f"users.{other}"] = csv_bytes(frame) if other == CSV else parquet_bytes(frame)
    return Expect("users", "keep one")


@kind("empty_file", "products")
def _empty_file(case: Case, rng: random.Random) -> Expect:
    table = rng.choice(["products", "users", "labels"])
    case.raw[f"{table}.{case.fmt}"] = b""
    return Expect(table, "empty file")
