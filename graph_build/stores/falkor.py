"""The embedded store: FalkorDB over the Redis protocol, on a server the project runs itself."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import redis

from graph_build import cypher, schema
from graph_build.errors import StoreError
from graph_build.stores.base import DEFAULT_BATCH, DEFAULT_PAGE, Progress, Row, batched, paged
from graph_build.stores import server_config
from graph_build.stores.embedded_server import EmbeddedServer
from graph_build.stores.hang_watch import HangWatch, hang_after
from graph_build.stores.server_probe import probe
from graph_build.stores.falkor_wire import (  # noqa: F401 - params_header: used by callers
    STATEMENT_TIMEOUT_S,
    INTEGER,
    STRING,
    params_header,
    scalar,
    statement_timeout,
)

GRAPH_NAME = "fraudring"


#: Rows written in one session after which closing it compacts the append-only file into a
#: snapshot base (in the background), so the next start loads a snapshot instead of replaying
#: a build's statements. Small writes (verdicts) stay in the log's short tail.
REWRITE_AFTER_ROWS = 20_000


class FalkorStore:
    """A :class:`~graph_build.stores.base.GraphStore` on the embedded FalkorDB server.

    Args:
        home: data folder (default ``FRAUDRING_HOME`` or ``.fraudring``); the server is started
            when none is running for it and keeps running for later commands
            (``fraudring db stop`` stops it).
        graph: graph (key) name inside the server.
    """

    kind = "falkordb"

    def __init__(self, home: str | Path | None = None, graph: str = GRAPH_NAME) -> None:
        self.server = EmbeddedServer(home)
        self._graph_name = graph
        self._watch = HangWatch(self._answers, lambda: self.server.kill_hung(self._info.pid),
                                hang_after())
        self._connect(self.server.start())
        self.location = f"embedded ({self.server.home})"
        self._wrote = False
        self._rows_written = 0

    def _connect(self, info) -> None:
        import falkordb

        try:
            if info.unix_socket:
                self._db = falkordb.FalkorDB(
                    unix_socket_path=info.unix_socket, password=info.password,
                    socket_timeout=statement_timeout(),
                )
            else:
                self._db = falkordb.FalkorDB(
                    host="127.0.0.1", port=info.port, password=info.password,
                    socket_timeout=statement_timeout(),
                )
            self._graph = self._db.select_graph(self._graph_name)
        except Exception as e:  # connection problems surface as many redis exception types
            raise StoreError(f"cannot connect to the embedded store: {e}") from e
        self._info = info

    # -- a server that stops answering (see hang_watch) ----------------------------------------
    def _answers(self, timeout: float) -> bool:
        return probe(self._info, timeout) in ("ready", "loading")

    def _watched(self, call: Callable, retry: bool):
        """``call()`` under the hang watch; after a hang, restart the server and retry a read.

        Writes are not retried: the hung one was never acknowledged, so whether it applied is
        the caller's to decide (every command of the project can simply be run again).
        """
        kills = self._watch.kills
        try:
            with self._watch:
                return call()
        except Exception as e:  # the client raises several redis exception types
            if self._watch.kills == kills:
                return self._failed(e)
            with contextlib.suppress(Exception):
                self._db.connection.close()
            self._connect(self.server.start())
            if not retry:
                raise StoreError(
                    f"the embedded store hung during a write ({self._watch.after_s:.0f} s "
                    "without an answer) and was restarted; the write was not acknowledged",
                    hint="run the command again: every acknowledged write is kept and "
                         f"re-running the same input changes nothing; see {self.server.log_file}",
                ) from e
        try:
            with self._watch:
                return call()
        except Exception as e:
            return self._failed(e)

    def compact(self) -> bool:
        """Restart the server on a fresh snapshot, unless another client is connected.

        Why: right after a bulk load, FalkorDB 4.16 adds and removes labels slowly (about 1 ms a
        node: 500 ``SET n:Flagged`` took 0.6 s on a freshly built 10k-user graph) until the
        graph is reloaded from a snapshot (0.02 s for the same 500). Scoring adds ``:Flagged``
        right after a build, so a build that wrote much reloads the graph once (the server
        saves on shutdown; the reload of 10k users takes 0.3 s). Another client (a rescoring
        job, a Browser session) would lose its connection, so then nothing happens.
        """
        conn = self._db.connection
        try:
            me = conn.client_id()
            others = [c for c in conn.client_list() if int(c.get("id", -1)) != me]
        except Exception:  # noqa: BLE001 - not knowing who is connected means: leave it
            return False
        if others:
            return False
        # The restart must load a snapshot, not replay the bulk load statement by statement.
        with contextlib.suppress(Exception):
            server_config.rewrite_aof(conn)
        with contextlib.suppress(Exception):
            conn.close()
        self.server.stop()
        self._connect(self.server.start())
        return True

    def _query(self, query: str, params: Row | None, read_only: bool):
        if read_only:
            return self._watched(lambda: self._graph.ro_query(query, params), retry=True)
        return self._watched(lambda: self._graph.query(query, params), retry=False)

    def _command(self, command: str, text: str, *flags: str) -> list | None:
        """Send one GRAPH.* command; None when the graph does not exist yet ("empty key")."""
        return self._watched(
            lambda: self._db.connection.execute_command(command, self._graph.name, text, *flags),
            retry=command == "GRAPH.RO_QUERY")

    def _failed(self, e: Exception) -> None:
        """None for "empty key" (no graph yet); otherwise a StoreError saying what happened."""
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "empty key" in message.lower():
            return None
        if isinstance(e, OSError | redis.exceptions.ConnectionError) or \
                "connection closed" in message.lower():
            raise self._lost(message) from e
        if "timeout" in message.lower():
            raise StoreError(
                f"the embedded store did not answer within {statement_timeout():.0f} s",
                hint=f"see {self.server.log_file}; `fraudring db stop` stops a stuck server "
                     "(FRAUDRING_STATEMENT_TIMEOUT raises the limit)") from e
        raise StoreError(f"embedded store refused a statement: {message}") from e

    def _lost(self, message: str) -> StoreError:
        """The error for a connection that broke: say whether the server died."""
        try:
            alive = self.server.life.is_held()
        except OSError:
            alive = False
        if not alive:
            return StoreError(
                f"the embedded server stopped during the statement (killed or crashed: "
                f"{message})", hint=f"see {self.server.log_file}; the next command starts it "
                "again and every acknowledged write is kept")
        return StoreError(f"the embedded server closed the connection: {message}",
                          hint=f"see {self.server.log_file}")

    def read(self, query: str, params: Row | None = None) -> list[Row]:
        response = self._command("GRAPH.RO_QUERY", params_header(params) + query, "--compact")
        if response is None or len(response) < 3:  # no graph yet, or a query without RETURN
            return []
        header = [h[1] for h in response[0]]
        graph = self._graph
        # Strings and integers (most cells) are taken as they come; the rest are decoded.
        return [
            dict(zip(header, [v if k in (STRING, INTEGER) else scalar((k, v), graph)
                              for k, v in record], strict=True))
            for record in response[1]
        ]

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
        """Pages as DataFrames, read in FalkorDB's verbose result format.

        Why: the verbose format hands strings and integers over as native RESP values that go
        straight into a DataFrame, 3x faster than decoding compact ``[type, value]`` cells; its
        one ambiguity is that floating-point values come as text, hence ``numeric``.
        """
        skip = 0
        while True:
            text = params_header(
                {**(params or {}), "skip": skip, "limit": page_size}) + query
            response = self._command("GRAPH.RO_QUERY", text)
            if response is None:
                return  # the graph does not exist yet
            rows = response[1] if len(response) >= 3 else []
            if rows:
                frame = pd.DataFrame(rows, columns=response[0])
                for column in numeric:
                    if column in frame.columns:
                        frame[column] = pd.to_numeric(frame[column], errors="coerce")
                yield frame
            if len(rows) < page_size:
                return
            skip += page_size

    def write(self, query: str, params: Row | None = None) -> Row:
        self._wrote = True
        result = self._query(query, params, read_only=False)
        if result is None:
            return {}
        counters = ("nodes_created", "nodes_deleted", "relationships_created",
                    "relationships_deleted", "properties_set", "labels_added", "labels_removed")
        return {name: int(getattr(result, name) or 0) for name in counters}

    def write_rows(
        self,
        query: str,
        rows: Sequence[Row],
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
        params: Row | None = None,
    ) -> int:
        self._wrote = True
        sent = 0
        for batch in batched(rows, batch_size):
            self._command("GRAPH.QUERY", params_header({**(params or {}), "rows": list(batch)})
                          + query, "--compact")
            sent += len(batch)
            self._rows_written += len(batch)
            if progress:
                progress(len(batch))
        return sent

    def ensure_schema(self) -> None:
        """A range index and a unique constraint on every node key.

        FalkorDB has no ``IF NOT EXISTS`` for indexes, so "already indexed" is expected on
        re-runs; unique constraints are created with ``GRAPH.CONSTRAINT`` (asynchronous, and
        they need the exact-match index first).
        """
        # Both are idempotent (an existing index or constraint is an expected answer), so a
        # hang is retried like a read.
        for label, key in schema.KEYED_LABELS.items():
            index = cypher.render("schema/index_falkordb", label=label)
            try:
                self._watched(lambda q=index: self._graph.query(q), retry=True)
            except StoreError as e:
                if "already indexed" not in str(e).lower():
                    raise StoreError(f"cannot index {label}.{key}: {e}") from e
            try:
                self._watched(lambda lb=label, k=key: self._graph.create_node_unique_constraint(
                    lb, k), retry=True)
            except StoreError as e:
                if "already exists" not in str(e).lower():
                    raise StoreError(f"cannot constrain {label}.{key}: {e}") from e

    def clear(self) -> None:
        try:
            self._watched(lambda: self._graph.delete(), retry=True)
        except StoreError as e:
            if "empty key" not in str(e).lower() and "no such" not in str(e).lower():
                raise StoreError(f"cannot clear the embedded graph: {e}") from e

    def close(self) -> None:
        """Disconnect; after a bulk write, first start compacting the append-only file.

        Every acknowledged write is already durable (the server fsyncs its append-only file
        before answering, see server_config); the background rewrite only keeps the next start
        short.
        """
        with contextlib.suppress(Exception):
            if self._rows_written >= REWRITE_AFTER_ROWS:
                self._db.connection.bgrewriteaof()
        with contextlib.suppress(Exception):
            self._db.connection.close()
        self._watch.close()
