"""``fraudring stats``: what is in the graph, what was scored and the last scoring runs."""

from __future__ import annotations

import socket
import time
from typing import Any

from graph_build import cypher, schema
from graph_build.stores.base import GraphStore
from graph_build.stores.server_lock import pid_alive

RECENT_RUNS = 10


def _single(store: GraphStore, query: str, column: str = "n") -> int:
    rows = store.read(query)
    return int(rows[0][column] or 0) if rows else 0


def graph_stats(store: GraphStore, runs: int = RECENT_RUNS) -> dict[str, Any]:
    """Counts per label and type, scored/flagged per scored label, open rings, recent runs.

    Returns:
        ``{"nodes": {label: n}, "relationships": {type: n}, "scored": {label: n},
        "flagged": {label: n}, "rings": n, "runs": [run, …newest first]}``.
    """
    nodes = {label: _single(store, cypher.render("stats/count_nodes", label=label))
             for label in schema.NODES}
    relationships = {t: _single(store, cypher.render("stats/count_rels", rel_type=t))
                     for t in schema.RELATIONSHIPS}
    scored, flagged = {}, {}
    for label in schema.SCORED_LABELS:
        rows = store.read(cypher.render("stats/count_scored", label=label))
        scored[label] = int(rows[0]["scored"] or 0) if rows else 0
        flagged[label] = int(rows[0]["flagged"] or 0) if rows else 0
    return {
        "nodes": nodes,
        "relationships": relationships,
        "scored": scored,
        "flagged": flagged,
        "rings": _single(store, cypher.render("stats/count_rings")),
        "runs": mark_dead_runs(store, store.read(cypher.render("stats/recent_runs"),
                                                 {"limit": runs})),
    }


def mark_dead_runs(store: GraphStore, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Show a ``running`` run as ``failed`` when no live lease holds it.

    A run is alive only while the rescore lease names it, has not lapsed, and — when held on
    this host — its process exists. A killed job's run stays ``running`` in the store until the
    next rescore marks it; operators should see it as failed at once.
    """
    if not any(r.get("status") == "running" for r in runs):
        return runs
    rows = store.read(cypher.render("rescore/lock_read"), {"name": "rescore"})
    lease = rows[0] if rows else {}
    now = int(time.time() * 1000)
    alive_run = lease.get("run_id") if (
        lease.get("owner") and (lease.get("expires_at") or 0) >= now
        and not (lease.get("host") == socket.gethostname()
                 and isinstance(lease.get("pid"), int) and not pid_alive(lease["pid"]))
    ) else None
    for run in runs:
        if run.get("status") == "running" and run.get("run_id") != alive_run:
            run["status"] = "failed"
            run["error"] = "dead: its job stopped without finishing (no live lease)"
    return runs


def format_stats(stats: dict[str, Any]) -> str:
    """A human-readable summary of :func:`graph_stats`."""
    lines = ["nodes:"]
    lines += [f"  {k:<16}{v:>12,}" for k, v in stats["nodes"].items()]
    lines.append("relationships:")
    lines += [f"  {k:<16}{v:>12,}" for k, v in stats["relationships"].items()]
    lines.append("scored / flagged:")
    lines += [f"  {k:<16}{stats['scored'][k]:>12,} / {stats['flagged'][k]:,}"
              for k in stats["scored"]]
    lines.append(f"open rings: {stats['rings']:,}")
    if stats["runs"]:
        lines.append("last scoring runs:")
        for run in stats["runs"][:5]:
            lines.append(f"  {run.get('run_id')}  {run.get('status')}  "
                         f"nodes={run.get('nodes_scored')}  model={run.get('model_version')}")
    return "\n".join(lines)
