"""Write generated columns as CSV or Parquet tables, chunk by chunk, with Arrow.

Columns stay numeric (indices into small string pools, epoch ms, numbers) until a chunk is
written, so a million users' strings never exist all at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHUNK_ROWS = 1_000_000


def make_ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """``prefix`` + zero-padded 1-based numbers (``u0000001``), built in Arrow (fast)."""
    width = max(7, len(str(len(numbers))))
    digits = pc.cast(pa.array(np.asarray(numbers) + 1), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width=width, padding="0"), "")


def pool(strings: Iterable[str]) -> pa.Array:
    """A string pool: columns index into it."""
    return pa.array(list(strings), pa.string())


def iso(ms: np.ndarray) -> pa.Array:
    """Epoch milliseconds as ``2026-03-01T12:34:56.789Z`` strings."""
    text = pc.cast(pa.array(ms, type=pa.timestamp("ms")), pa.string())
    return pc.binary_join_element_wise(pc.replace_substring(text, " ", "T"), "Z", "")


def ip_strings(ips: np.ndarray) -> pa.Array:
    """IPv4 addresses held as integers, in dotted notation."""
    octets = [pc.cast(pa.array((ips >> s) & 0xFF), pa.string()) for s in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


# A column to write: ("time", epoch ms) | ("num", values) | ("num?", values; < 0 = null)
# | (string pool, indices; -1 = null).
Col = tuple["pa.Array | str", np.ndarray]


def _render(col: Col, part: slice) -> pa.Array:
    how, values = col
    if isinstance(how, str):
        if how == "num?":
            return pa.array(values[part], mask=values[part] < 0)
        return iso(values[part]) if how == "time" else pa.array(values[part])
    index = values[part]
    return how.take(pa.array(np.maximum(index, 0), mask=index < 0))


def write_table(path: Path, fmt: str, columns: dict[str, Col]) -> int:
    """Write a table chunk by chunk (strings exist only per chunk) via a temp file."""
    n = len(next(iter(columns.values()))[1])
    tmp = path.with_name(path.name + ".tmp")
    writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
    try:
        for lo in range(0, max(n, 1), CHUNK_ROWS):
            part = slice(lo, min(lo + CHUNK_ROWS, n))
            chunk = pa.table({name: _render(col, part) for name, col in columns.items()})
            if writer is None:
                writer = (pq.ParquetWriter(tmp, chunk.schema) if fmt == "parquet" else
                          pacsv.CSVWriter(tmp, chunk.schema, write_options=pacsv.WriteOptions(
                              quoting_style="none", quoting_header="none")))
            writer.write_table(chunk)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, path)
    return n
