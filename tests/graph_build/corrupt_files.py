"""Corruptions of a file rather than a cell: CSV bytes (encodings, delimiters, ragged rows,
headers, embedded newlines) and Parquet types (nested columns, NaN, typed columns, garbage).

Importing this module registers them in :data:`corruptions.KINDS`.
"""

from __future__ import annotations

import random

import pyarrow as pa

from corruptions import CSV, PARQUET, Case, Expect, csv_bytes, kind, parquet_bytes


def _lines(case: Case, table: str) -> list[str]:
    """The CSV text of a table as lines (line k of the file is item k - 1; no trailing '')."""
    return csv_bytes(case.frames[table]).decode("utf-8").rstrip("\n").split("\n")


def _set_lines(case: Case, table: str, lines: list[str], encoding: str = "utf-8",
               ending: str = "\n") -> None:
    case.raw[f"{table}.csv"] = (ending.join(lines) + ending).encode(encoding)


def _data_line(case: Case, rng: random.Random, table: str) -> int:
    """A drawn data line number (2 … n + 1)."""
    return 2 + rng.randrange(len(case.frames[table]))


# -- encodings --------------------------------------------------------------------------------
@kind("utf16_file", "users", (CSV,))
def _utf16(case: Case, rng: random.Random) -> Expect:
    _set_lines(case, "users", _lines(case, "users"), rng.choice(["utf-16", "utf-16-be",
                                                                  "utf-32"]))
    if case.raw["users.csv"][:2] not in (b"\xff\xfe", b"\xfe\xff"):  # utf-16-be: no BOM
        case.raw["users.csv"] = b"\xfe\xff" + case.raw["users.csv"]
    return Expect("users", "UTF-", line=1)


@kind("latin1_value", "users", (CSV,))
def _latin1(case: Case, rng: random.Random) -> Expect:
    lines = _lines(case, "users")
    line = _data_line(case, rng, "users")
    head, _, rest = lines[line - 1].partition(",")
    lines[line - 1] = head + "," + rest.replace(",", ",M\u00fcller-", 1)
    data = [x.encode("utf-8") for x in lines]
    data[line - 1] = lines[line - 1].encode(rng.choice(["latin-1", "cp1252"]))
    case.raw["users.csv"] = b"\n".join(data) + b"\n"
    return Expect("users", "not UTF-8", line=line)


@kind("bom_inside_file", "users", (CSV,))
def _bom_inside(case: Case, rng: random.Random) -> Expect:
    # Two exported files glued together: the second one's byte-order mark starts a data line.
    lines = _lines(case, "users")
    line = _data_line(case, rng, "users")
    lines[line - 1] = "\ufeff" + lines[line - 1]
    _set_lines(case, "users", lines)
    return Expect("users", "whitespace", "user_id", line=line)


# -- shape: delimiters, ragged rows, headers --------------------------------------------------
@kind("wrong_delimiter", "users", (CSV,))
def _delimiter(case: Case, rng: random.Random) -> Expect:
    case.raw["users.csv"] = csv_bytes(case.frames["users"], sep=rng.choice([";", "\t", "|"]))
    return Expect("users", "delimiter", line=1)


@kind("ragged_extra_field", "orders", (CSV,))
def _ragged_extra(case: Case, rng: random.Random) -> Expect:
    lines = _lines(case, "orders")
    line = _data_line(case, rng, "orders")
    lines[line - 1] += ",surplus"
    _set_lines(case, "orders", lines)
    return Expect("orders", "fields where the header has", line=line)


@kind("ragged_missing_field", "orders", (CSV,))
def _ragged_short(case: Case, rng: random.Random) -> Expect:
    lines = _lines(case, "orders")
    line = _data_line(case, rng, "orders")
    lines[line - 1] = lines[line - 1].rsplit(",", 1)[0]
    _set_lines(case, "orders", lines)
    return Expect("orders", "fields where the header has", line=line)


@kind("unterminated_quote", "products", (CSV,))
def _open_quote(case: Case, rng: random.Random) -> Expect:
    lines = _lines(case, "products")
    line = _data_line(case, rng, "products")
    key, _, rest = lines[line - 1].partition(",")
    lines[line - 1] = f'{key},"{rest}'
    _set_lines(case, "products", lines)
    return Expect("products", "fields where the header has", line=line)


@kind("duplicate_header", "users", (CSV,))
def _duplicate_header(case: Case, rng: random.Random) -> Expect:
    lines = _lines(case, "users")
    column = rng.choice(["country", "user_id", "created_at"])
    lines[0] += f",{column}"
    for i in range(1, len(lines)):
        lines[i] += ",x"
    _set_lines(case, "users", lines)
    return Expect("users", "duplicate column", column, line=1)


@kind("nameless_column", "users", (CSV,))
def _nameless(case: Case, rng: random.Random) -> Expect:
    # A trailing delimiter on every line: a last column without a name.
    _set_lines(case, "users", [x + "," for x in _lines(case, "users")])
    return Expect("users", "no name", line=1)


# -- line numbers must stay right -------------------------------------------------------------
@kind("bad_after_embedded_newline", "products", (CSV,))
def _after_newline(case: Case, rng: random.Random) -> Expect:
    frame = case.frames["products"]
    first, bad = sorted(rng.sample(range(len(frame)), 2))
    frame.iat[first, frame.columns.get_loc("category")] = "home\nand garden"
    frame.iat[bad, frame.columns.get_loc("price")] = "cheap"
    return Expect("products", "not a number", "price", line=bad + 3)  # one extra line above


@kind("bad_with_crlf_lines", "orders", (CSV,))
def _crlf(case: Case, rng: random.Random) -> Expect:
    frame = case.frames["orders"]
    pos = rng.randrange(len(frame))
    frame.iat[pos, frame.columns.get_loc("amount")] = "lots"
    _set_lines(case, "orders", _lines(case, "orders"), ending="\r\n")
    return Expect("orders", "not a number", "amount", pos)


# -- Parquet types ----------------------------------------------------------------------------
def _arrow(case: Case, table: str, **columns: pa.Array) -> None:
    frame = case.frames[table]
    arrays = {c: columns.get(c, pa.array(frame[c].tolist(), pa.string())) for c in frame.columns}
    case.raw[f"{table}.parquet"] = parquet_bytes(pa.table(arrays))


@kind("parquet_list_column", "users", (PARQUET,))
def _list_column(case: Case, rng: random.Random) -> Expect:
    column = rng.choice(["user_id", "country"])
    _arrow(case, "users", **{column: pa.array([[v] for v in case.frames["users"][column]])})
    return Expect("users", "list", column, line=1)


@kind("parquet_float_nan", "products", (PARQUET,))
def _float_nan(case: Case, rng: random.Random) -> Expect:
    prices = [float(p) for p in case.frames["products"]["price"]]
    pos = rng.randrange(len(prices))
    prices[pos] = rng.choice([float("nan"), float("inf"), float("-inf")])
    _arrow(case, "products", price=pa.array(prices, pa.float64()))
    return Expect("products", "not a number", "price", pos)


@kind("parquet_bool_amount", "orders", (PARQUET,))
def _bool_amount(case: Case, rng: random.Random) -> Expect:
    _arrow(case, "orders", amount=pa.array([True] * len(case.frames["orders"])))
    return Expect("orders", "not a number", "amount", 0)


@kind("parquet_int_seconds_time", "users", (PARQUET,))
def _seconds(case: Case, rng: random.Random) -> Expect:
    times = [1_767_225_600 + i for i in range(len(case.frames["users"]))]
    _arrow(case, "users", created_at=pa.array(times, pa.int64()))
    return Expect("users", "not a time", "created_at", 0)


@kind("parquet_far_future_timestamp", "orders", (PARQUET,))
def _timestamp(case: Case, rng: random.Random) -> Expect:
    import pandas as pd

    times = pd.to_datetime(case.frames["orders"]["created_at"], utc=True).tolist()
    pos = rng.randrange(len(times))
    times[pos] = pd.Timestamp("2200-01-01", tz="UTC")
    _arrow(case, "orders", created_at=pa.array(times, pa.timestamp("ms", tz="UTC")))
    return Expect("orders", "not a time", "created_at", pos)


@kind("parquet_duplicate_columns", "users", (PARQUET,))
def _parquet_duplicates(case: Case, rng: random.Random) -> Expect:
    frame = case.frames["users"]
    names = [*frame.columns, "country"]
    arrays = [pa.array(frame[c].tolist(), pa.string()) for c in frame.columns]
    case.raw["users.parquet"] = parquet_bytes(pa.table([*arrays, arrays[2]], names=names))
    return Expect("users", "duplicate column", "country", line=1)


@kind("parquet_invalid_utf8", "users", (PARQUET,))
def _binary(case: Case, rng: random.Random) -> Expect:
    values = [v.encode() for v in case.frames["users"]["country"]]
    pos = rng.randrange(len(values))
    values[pos] = b"\xff\xfeDE"
    _arrow(case, "users", country=pa.array(values, pa.binary()))
    return Expect("users", "not UTF-8", "country", pos)


@kind("parquet_garbage", "orders", (PARQUET,))
def _garbage(case: Case, rng: random.Random) -> Expect:
    good = parquet_bytes(case.frames["orders"])
    case.raw["orders.parquet"] = rng.choice([b"PAR1" + bytes(rng.randrange(256)
                                                             for _ in range(64)),
                                             good[: len(good) // 2]])
    return Expect("orders", "unreadable")
