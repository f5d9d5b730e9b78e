"""The shapes the schema is declared in: columns, tables, foreign keys, node and relationship
specs. The names themselves (the whitelist) are in :mod:`graph_build.schema` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["str", "int", "float", "time", "bool"]


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    Args:
        name: column name in the canonical table.
        type: logical type; ``time`` is parsed to epoch milliseconds (UTC).
        required: a value must be present in every row.
        min: smallest valid value for numeric columns (inclusive).
    """

    name: str
    type: ColumnType = "str"
    required: bool = False
    min: float | None = None


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table refers to the key of ``table``."""

    column: str
    table: str
    required: bool = True


@dataclass(frozen=True)
class TableSpec:
    """A canonical input table.

    Args:
        name: file stem (``users`` -> ``users.csv`` / ``users.parquet``).
        columns: the known columns; anything else is an "unknown column" problem.
        key: primary key columns (unique together), or ``()`` for none.
        foreign_keys: references to other tables' keys (checked for dangling values).
        optional: the table may be absent from a data folder.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    optional: bool = False

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class NodeSpec:
    """A node label, its unique key property and its other properties.

    ``time`` names the property that says when the node came into being (``created_at`` or
    ``first_seen``); export as of T keeps only nodes whose time is <= T.
    """

    label: str
    key: str
    properties: tuple[str, ...]
    time: str | None = None
    scored: bool = False


@dataclass(frozen=True)
class RelSpec:
    """A relationship type between two labels.

    ``aggregated`` relationships collapse many timestamped observations (events, orders) into
    one edge carrying ``first_seen``, ``last_seen`` and ``count``; others carry ``properties``.
    """

    type: str
    source: str
    target: str
    properties: tuple[str, ...] = ()
    aggregated: bool = False
    time: str | None = None
