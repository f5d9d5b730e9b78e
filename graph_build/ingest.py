"""Ingest positions: every build takes the next sequence number and stamps what it writes.

Rescoring tracks change by ingestion, not by event time, so late and backfilled rows count.
"""

from __future__ import annotations

import time

from graph_build import cypher
from graph_build.stores.base import GraphStore


def begin_ingest(store: GraphStore, now_ms: int | None = None) -> int:
    """Open an ingest (this build): the next ingest sequence number, recorded as running.

    Every node and relationship this build creates or changes carries it (``ingest_seq``), so
    rescoring tracks change by ingestion, not by event time: late and backfilled rows count.
    """
    import os
    import secrets
    import socket

    now = int(time.time() * 1000) if now_ms is None else now_ms
    name = f"build-{now}-{secrets.token_hex(4)}"
    store.write(cypher.render("build/ingest_begin"), {
        "name": name, "now": now, "owner": f"{socket.gethostname()}:{os.getpid()}"})
    found = store.read(cypher.render("build/ingest_read"), {"name": name})
    return int(found[0]["seq"])


def finish_ingest(store: GraphStore, seq: int) -> None:
    """Mark the ingest finished: rescoring's watermark may now pass its sequence number."""
    store.write(cypher.render("build/ingest_finish"),
                {"seq": seq, "now": int(time.time() * 1000)})
