"""A Parquet file as text columns, the way a CSV file reads: what validation then checks.

Why not ``pd.read_parquet(...).astype("string")``: pandas turns a float NaN into a missing
value (so ``NaN`` passed where the CSV text ``NaN`` is rejected), prints a list column as text
(``['u1']`` became a key), and reports duplicate column names as "__filename: string". Here
Arrow casts each column to text itself (NaN stays ``nan``, inf ``inf``, so validation rejects
them as in CSV), nested columns and invalid UTF-8 are located problems, and duplicate names are
named.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


class ParquetProblem(ValueError):
    """A located problem of a Parquet file: (row, column, why); row is 1-based or None."""

    def __init__(self, row: int | None, column: str | None, why: str) -> None:
        super().__init__(why)
        self.row, self.column, self.why = row, column, why


def _first_valid(column) -> int:
    """0-based position of the first non-null value of a chunked array (0 when all null)."""
    import pyarrow.compute as pc

    valid = pc.is_valid(column).to_numpy(zero_copy_only=False)
    return int(valid.argmax()) if valid.any() else 0


def _first_bad_utf8(column) -> tuple[int, int]:
    """(0-based row, byte) of the first binary value that is not UTF-8 (error path only)."""
    for pos, value in enumerate(column.to_pylist()):
        if value is None:
            continue
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as e:
            return pos, value[e.start]
    return 0, 0


def _as_text(name: str, column):
    """One Arrow column cast to strings, or a ParquetProblem naming why it cannot be."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_nested(kind):
        raise ParquetProblem(_first_valid(column) + 1, name,
                             f"holds {kind} values (a list or record per cell): expected "
                             "text, numbers, times or booleans")
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            pos, byte = _first_bad_utf8(column)
            raise ParquetProblem(pos + 1, name, f"not UTF-8 text (byte 0x{byte:02x}); "
                                 "store text columns as UTF-8 strings") from e
        raise ParquetProblem(None, name, f"a {kind} column cannot be read as text") from e


def _index_columns(schema) -> set[str]:
    """Columns that hold a pandas index (written by ``DataFrame.to_parquet``), not data."""
    meta = schema.pandas_metadata or {}
    return {c for c in meta.get("index_columns", []) if isinstance(c, str)}


def read_parquet_text(path: Path, header_problem) -> pd.DataFrame:
    """Every column of ``path`` as text (``None`` for null and for the empty string).

    Args:
        path: the Parquet file.
        header_problem: ``names -> (column, why) | None``, the header check CSV files get too.

    Raises:
        ParquetProblem: a duplicate or nameless column, a nested column, bytes that are not
            UTF-8 (located by row and column).
        pyarrow.ArrowInvalid, OSError: the file is not Parquet (the caller says so).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    skip = _index_columns(parquet.schema_arrow)
    found = header_problem([n for n in parquet.schema_arrow.names if n not in skip])
    if found:
        raise ParquetProblem(1, *found)
    table = parquet.read()
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in skip:
            continue
        text = _as_text(name, column)
        # An empty string is a missing value, as an empty CSV cell is.
        columns[name] = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return pa.table(columns).to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get) \
        if columns else pd.DataFrame(index=range(table.num_rows))
