"""Where the graph stands: its ingest position (the rescoring watermark) and its latest event.

Every build takes the next ingest sequence number and stamps it on each node and relationship it
creates or changes (``ingest_seq``; :func:`graph_build.ingest.begin_ingest`). Rescoring records
the position it has seen and next time reads what came after — by ingestion, so a late or
backfilled row (an event older than the last run) is rescored like any other.
"""

from __future__ import annotations

from graph_build import cypher, schema
from graph_build.stores.base import GraphStore

from graphgnn.timeutil import now_ms

#: A build still "running" after this long died (its rows are then treated as seen).
STALE_BUILD_MS = 6 * 3_600_000


def ingest_position(store: GraphStore) -> int:
    """The highest ingest sequence number below which every build has finished (0: none).

    A build that is still writing holds the position back, so its rows are all read by the
    run after it finishes, never half.
    """
    rows = store.read(cypher.render("scoring/ingest_position"),
                      {"alive_since": now_ms() - STALE_BUILD_MS})
    if not rows or rows[0]["top"] is None:
        return 0
    top, open_ = int(rows[0]["top"]), rows[0]["open"]
    return top if open_ is None else int(open_) - 1


def latest_event_time(store: GraphStore) -> int | None:
    """The latest time stamped on any node or relationship of the graph (None: empty graph)."""
    times: list[int] = []
    for label, spec in schema.NODES.items():
        if spec.time:
            rows = store.read(cypher.render("scoring/latest_node_time", label=label))
            if rows and rows[0]["t"] is not None:
                times.append(int(rows[0]["t"]))
    for rel_type in schema.RELATIONSHIPS:
        rows = store.read(cypher.render("scoring/latest_rel_time", rel_type=rel_type))
        if rows and rows[0]["t"] is not None:
            times.append(int(rows[0]["t"]))
    return max(times) if times else None
