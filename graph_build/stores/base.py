"""The one seam for database access: every read and write of the project goes through here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import pandas as pd

Row = dict[str, Any]
Progress = Callable[[int], None]

DEFAULT_BATCH = 10_000
DEFAULT_PAGE = 50_000


@runtime_checkable
class GraphStore(Protocol):
    """A graph database that speaks Cypher.

    Implementations: :class:`graph_build.stores.falkor.FalkorStore` (embedded, default) and
    :class:`graph_build.stores.neo4j_store.Neo4jStore` (production).
    """

    #: ``"falkordb"`` or ``"neo4j"``: which dialect-specific statements apply.
    kind: str
    #: Human-readable location, for messages (never contains a password).
    location: str

    def read(self, query: str, params: Row | None = None) -> list[Row]:
        """Run a read-only query and return its records as dicts."""
        ...

    def read_pages(
        self, query: str, params: Row | None = None, page_size: int = DEFAULT_PAGE
    ) -> Iterator[list[Row]]:
        """Run a query whose text ends in ``SKIP $skip LIMIT $limit`` page by page."""
        ...

    def read_frames(
        self,
        query: str,
        params: Row | None = None,
        page_size: int = DEFAULT_PAGE,
        numeric: Sequence[str] = (),
    ) -> Iterator[pd.DataFrame]:
        """Like :meth:`read_pages`, one DataFrame a page; ``numeric`` columns come as numbers."""
        ...

    def write(self, query: str, params: Row | None = None) -> Row:
        """Run one write statement; returns counters (nodes_created, properties_set, …)."""
        ...

    def write_rows(
        self,
        query: str,
        rows: Sequence[Row],
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
        params: Row | None = None,
    ) -> int:
        """Run ``UNWIND $rows AS row …`` over ``rows`` in batches; returns rows sent."""
        ...

    def ensure_schema(self) -> None:
        """Create indexes and uniqueness constraints for every node key (idempotent)."""
        ...

    def clear(self) -> None:
        """Delete the whole graph (tests and ``demo`` only)."""
        ...

    def compact(self) -> bool:
        """After a bulk load: let the store reorganise itself if that pays (True when it did)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def batched(rows: Sequence[Row], size: int) -> Iterable[Sequence[Row]]:
    """Yield consecutive slices of ``rows`` of at most ``size`` items."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def paged(
    run: Callable[[str, Row], list[Row]], query: str, params: Row | None, page_size: int
) -> Iterator[list[Row]]:
    """Drive a ``SKIP $skip LIMIT $limit`` query until a short page comes back.

    Why SKIP/LIMIT rather than keyset pagination: an ``ORDER BY`` re-sorts the whole label on
    every page, while a label scan in a store that is not being written to returns the same
    order each time (export runs under the rescoring lock, so nothing writes meanwhile).
    """
    skip = 0
    while True:
        page = run(query, {**(params or {}), "skip": skip, "limit": page_size})
        if page:
            yield page
        if len(page) < page_size:
            return
        skip += page_size


def frames_from_pages(pages: Iterable[list[Row]]) -> Iterator[pd.DataFrame]:
    """Record pages as DataFrames (the generic :meth:`GraphStore.read_frames`)."""
    for page in pages:
        yield pd.DataFrame.from_records(page)
