"""The production store: Neo4j through the official ``neo4j`` driver (5.x and 6.x API).

Every call goes through ``Driver.execute_query`` with an explicit database (no home-database
lookup round trip) and explicit routing: READ for reads, so a cluster can serve them from
secondaries, WRITE for writes. ``execute_query`` retries transient failures itself.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd

from graph_build import cypher, schema
from graph_build.errors import StoreError
from graph_build.stores.neo4j_connection import (  # noqa: F401 - redact: used by callers
    describe_error,
    quiet_driver_logging,
    quiet_notifications,
    reach_hint,
    redact,
    split_userinfo,
)
from graph_build.stores.base import (
    DEFAULT_BATCH,
    DEFAULT_PAGE,
    Progress,
    Row,
    batched,
    frames_from_pages,
    paged,
)

DEFAULT_USER = "neo4j"
DEFAULT_DATABASE = "neo4j"
CLEAR_BATCH = 10_000

#: Counter names reported by :meth:`Neo4jStore.write` (the same keys as ``FalkorStore.write``).
COUNTERS = (
    "nodes_created",
    "nodes_deleted",
    "relationships_created",
    "relationships_deleted",
    "properties_set",
    "labels_added",
    "labels_removed",
)


class Neo4jStore:
    """A :class:`~graph_build.stores.base.GraphStore` on a Neo4j server (5.x or later).

    Args:
        uri: ``bolt://``, ``bolt+s://``, ``neo4j://``, ``neo4j+s://`` or ``neo4j+ssc://`` URI
            (default ``NEO4J_URI``). Encryption follows the scheme; nothing else is set.
        user: user name (default ``NEO4J_USERNAME`` or ``neo4j``).
        password: password (default ``NEO4J_PASSWORD``); with none at all, no authentication
            is sent (a server with ``dbms.security.auth_enabled=false``).
        database: database name (default ``NEO4J_DATABASE`` or ``neo4j``).
        **driver_config: passed to ``GraphDatabase.driver`` (e.g. ``connection_timeout=2``).

    Raises:
        StoreError: the server cannot be reached, refuses the credentials or lacks the database.
    """

    kind = "neo4j"

    def __init__(
        self,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        **driver_config: Any,
    ) -> None:
        import neo4j
        from neo4j import exceptions as nx

        uri = uri or os.environ.get("NEO4J_URI")
        if not uri:
            raise StoreError(
                "no Neo4j URI given",
                hint="pass --store bolt://host:7687 or set NEO4J_URI",
            )
        uri, uri_user, uri_password = split_userinfo(uri)
        self.uri = uri
        self.user = user or uri_user or os.environ.get("NEO4J_USERNAME") or DEFAULT_USER
        if password is None:
            password = uri_password if uri_password is not None else os.environ.get(
                "NEO4J_PASSWORD"
            )
        self._secret = password or None
        self.database = database or os.environ.get("NEO4J_DATABASE") or DEFAULT_DATABASE
        self.location = f"{redact(uri)} (database {self.database})"
        self._read = neo4j.RoutingControl.READ
        self._write = neo4j.RoutingControl.WRITE

        auth = (self.user, password) if password is not None else None
        quiet_driver_logging()
        try:
            self._driver = neo4j.GraphDatabase.driver(
                uri, auth=auth, **{**quiet_notifications(), **driver_config})
        except (nx.ConfigurationError, ValueError, TypeError) as e:
            raise StoreError(
                f"invalid Neo4j URI or driver setting {redact(uri)!r}: {self._describe(e)}",
                hint="use bolt://host:7687, neo4j://host:7687 or neo4j+s://host "
                "(encryption comes from the scheme)",
            ) from e
        try:
            self._driver.verify_connectivity()
            # A cheap query on the configured database: a missing database or a user without
            # access fails here, with a clear message, rather than in the middle of a build.
            self._driver.execute_query(
                "RETURN 1 AS ok", database_=self.database, routing_=self._read
            )
        except nx.AuthError as e:
            self._close_quietly()
            if password is None:
                raise StoreError(
                    f"no password was set for Neo4j at {self.location}",
                    hint="set NEO4J_PASSWORD (or put user:password@ in the URI)",
                ) from e
            raise StoreError(
                f"Neo4j at {self.location} refused the credentials of user {self.user!r}: "
                f"{self._describe(e)}",
                hint="check NEO4J_USERNAME and NEO4J_PASSWORD",
            ) from e
        except nx.Neo4jError as e:
            self._close_quietly()
            if "DatabaseNotFound" in (e.code or ""):
                raise StoreError(
                    f"Neo4j at {redact(uri)} has no database {self.database!r}",
                    hint="set NEO4J_DATABASE to an existing database (Community Edition has "
                    "only 'neo4j')",
                ) from e
            raise StoreError(
                f"Neo4j at {self.location} answered with an error: {self._describe(e)}",
                hint="check the user's permissions on the database",
            ) from e
        except ValueError as e:  # e.g. a port that is not a number, found when connecting
            self._close_quietly()
            raise StoreError(f"invalid Neo4j URI {redact(uri)!r}: {self._describe(e)}",
                             hint="use bolt://host:7687, neo4j://host:7687 or neo4j+s://host"
                             ) from e
        except (nx.DriverError, OSError) as e:
            self._close_quietly()
            raise StoreError(
                f"cannot reach Neo4j at {redact(uri)}: {self._describe(e)}",
                hint=reach_hint(uri, e),
            ) from e

    # -- reads ---------------------------------------------------------------------------------

    def _execute(self, query: str, params: Row | None, routing):
        from neo4j import exceptions as nx

        try:
            return self._driver.execute_query(
                query, params or {}, database_=self.database, routing_=routing
            )
        except nx.Neo4jError as e:
            raise StoreError(f"Neo4j refused a statement: {self._describe(e)}") from e
        except (nx.DriverError, OSError) as e:
            raise StoreError(
                f"lost the connection to Neo4j at {self.location}: {self._describe(e)}",
                hint="is the server still running?",
            ) from e

    def read(self, query: str, params: Row | None = None) -> list[Row]:
        result = self._execute(query, params, self._read)
        return [record.data() for record in result.records]

    def read_pages(
        self, query: str, params: Row | None = None, page_size: int = DEFAULT_PAGE
    ) -> Iterator[list[Row]]:
        return paged(self.read, query, params, page_size)

    def read_frames(
        self,
        query: str,
        params: Row | None = None,
        page_size: int = DEFAULT_PAGE,
        numeric: Sequence[str] = (),
    ) -> Iterator[pd.DataFrame]:
        # The driver already returns typed values; ``numeric`` needs no work here.
        return frames_from_pages(self.read_pages(query, params, page_size))

    # -- writes --------------------------------------------------------------------------------

    def write(self, query: str, params: Row | None = None) -> Row:
        result = self._execute(query, params, self._write)
        counters = result.summary.counters
        return {name: getattr(counters, name) for name in COUNTERS}

    def write_rows(
        self,
        query: str,
        rows: Sequence[Row],
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
        params: Row | None = None,
    ) -> int:
        """One transaction per batch (auto-retried on transient errors by ``execute_query``)."""
        sent = 0
        for batch in batched(rows, batch_size):
            self.write(query, {**(params or {}), "rows": list(batch)})
            sent += len(batch)
            if progress:
                progress(len(batch))
        return sent

    def ensure_schema(self) -> None:
        """A uniqueness constraint (with its backing index) on every key; idempotent."""
        for label, key in schema.KEYED_LABELS.items():
            try:
                self.write(cypher.render("schema/constraint_neo4j", label=label))
            except StoreError as e:
                raise StoreError(
                    f"cannot create the uniqueness constraint on {label}.{key}: {e}",
                    hint=f"duplicate {label}.{key} values or an existing index on it block "
                    "the constraint: remove them and run again",
                ) from e

    def clear(self) -> None:
        """Delete every node and relationship, in batches (constraints stay)."""
        statement = cypher.render("maintenance/clear_batch")
        while True:
            counters = self.write(statement, {"batch": CLEAR_BATCH})
            if counters["nodes_deleted"] < CLEAR_BATCH:
                return

    def _describe(self, e: BaseException) -> str:
        """:func:`describe_error` with the password, if any, masked."""
        text = describe_error(e)
        secret = self._secret
        return text.replace(secret, "***") if secret and len(secret) >= 4 else text

    def compact(self) -> bool:
        """Nothing to do: Neo4j's store needs no reorganising after a bulk load."""
        return False

    def close(self) -> None:
        self._close_quietly()

    def _close_quietly(self) -> None:
        from neo4j import exceptions as nx

        with contextlib.suppress(nx.DriverError, nx.Neo4jError, OSError):
            self._driver.close()
