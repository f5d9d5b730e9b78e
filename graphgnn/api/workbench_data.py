"""What the workbench reads and writes, each through a ``.cypher`` file (``cypher/workbench/`` for
its own views, ``cypher/investigate/`` for verdicts and case status, so the workbench, Neo4j
Browser and ``fraudring cypher`` write exactly the same thing).

Every function takes a :class:`~graph_build.stores.base.GraphStore` and returns plain JSON-able
dicts. Lists that are cut carry their total, so the page can say "+N more".
"""

from __future__ import annotations

from typing import Any

from graph_build import cypher
from graph_build.errors import FraudringError
from graph_build.query import write_problems
from graph_build.stores.base import GraphStore

KINDS = ("device", "IP", "card", "address")
VERDICTS = ("fraud", "legit", "unsure")
CASE_STATUSES = ("open", "investigating", "closed")
SORTS = ("score", "size", "growth", "detected")
SHOWN_ORDERS = 50
SHOWN_SESSIONS = 50


class Refused(FraudringError):
    """A write the statement's ``// check:`` file refused; ``problems`` says why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class NotFound(FraudringError):
    """No ring, user or entity with that id."""


def _read(store: GraphStore, name: str, **params: Any) -> list[dict[str, Any]]:
    return store.read(cypher.render(name), params)


def checked_write(store: GraphStore, name: str, params: dict[str, Any]) -> None:
    """Run the write statement ``name`` after the read-only checks its ``// check:`` header names.

    Raises:
        Refused: a check returned problems (nothing was written).
    """
    stmt = cypher.load(name)
    problems = write_problems(store, stmt.text, params)
    if problems:
        raise Refused(problems)
    store.write(stmt.text, {p: params.get(p) for p in stmt.params})


def latest_run(store: GraphStore) -> dict[str, Any] | None:
    rows = _read(store, "workbench/latest_run")
    return rows[0] if rows else None


def ring_queue(store: GraphStore, *, sort: str = "score", status: str | None = None,
               change: str | None = None, min_score: float = 0.0, min_size: int = 0,
               limit: int = 100) -> dict[str, Any]:
    """Open rings, filtered and sorted, each marked ``new`` and/or ``grown`` at the latest run.

    Args:
        sort: ``score``, ``size``, ``growth`` (members gained) or ``detected`` (newest first).
        status: keep one case status (``open``, ``investigating``, ``closed``).
        change: ``new`` (detected by the latest run), ``grown`` (larger than at the run before)
            or ``changed`` (either).
        min_score, min_size: lower bounds.
        limit: rings returned; ``total`` counts all that matched.
    """
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
    if status is not None and status not in CASE_STATUSES:
        raise ValueError(f"status must be one of {', '.join(CASE_STATUSES)}, got {status!r}")
    if change not in (None, "new", "grown", "changed"):
        raise ValueError(f"change must be new, grown or changed, got {change!r}")
    run = latest_run(store)
    last = run["started_at"] if run else None
    rings = []
    for r in _read(store, "workbench/ring_queue"):
        size, prev = int(r["size"] or 0), r["prev_size"]
        r["new"] = last is not None and r["detected_at"] == last
        r["grown"] = prev is not None and size > int(prev)
        r["growth"] = size - int(prev) if prev is not None else 0
        r["score"] = float(r["score"] or 0.0)
        if status and r["case_status"] != status:
            continue
        if change == "new" and not r["new"] or change == "grown" and not r["grown"]:
            continue
        if change == "changed" and not (r["new"] or r["grown"]):
            continue
        if r["score"] < min_score or size < min_size:
            continue
        rings.append(r)
    key = {"score": lambda r: (-r["score"], -r["size"]), "size": lambda r: (-r["size"],
           -r["score"]), "growth": lambda r: (-r["growth"], -r["score"]),
           "detected": lambda r: (-(r["detected_at"] or 0), -r["score"])}[sort]
    rings.sort(key=lambda r: (*key(r), r["ring_id"]))
    return {"total": len(rings), "rings": rings[:limit], "latest_run": run}


def ring_detail(store: GraphStore, ring_id: str) -> dict[str, Any]:
    """A ring with its members and every entity two or more members share (all four kinds),
    as graph elements: member and entity nodes, member-entity edges with first/last use."""
    head = _read(store, "workbench/ring", ring_id=ring_id)
    if not head:
        raise NotFound(f"no ring {ring_id!r}")
    members = _read(store, "workbench/ring_members", ring_id=ring_id)
    links = _read(store, "workbench/ring_links", ring_id=ring_id)
    entities: dict[tuple[str, str], dict[str, Any]] = {}
    edges = []
    for link in links:
        k = (link["kind"], link["entity"])
        ent = entities.setdefault(k, {"kind": link["kind"], "id": link["entity"],
                                      "score": link["entity_score"],
                                      "flagged": bool(link["entity_flagged"]), "members": 0})
        ent["members"] += 1
        edges.append({"user_id": link["user_id"], "kind": link["kind"],
                      "entity": link["entity"], "first_use": link["first_use"],
                      "last_use": link["last_use"], "uses": int(link["uses"] or 1)})
    by_kind = {kind: sum(1 for e in entities.values() if e["kind"] == kind) for kind in KINDS}
    # What ties each member to the ring, named (the stored reasons exist for flagged nodes
    # only, and a ring member may be a candidate above the ring percentile without a flag).
    ties: dict[str, list[tuple[int, str]]] = {}
    for edge in edges:
        n = entities[(edge["kind"], edge["entity"])]["members"] - 1
        ties.setdefault(edge["user_id"], []).append(
            (n, f"shares {edge['kind']} {edge['entity']} with {n} other member"
                f"{'' if n == 1 else 's'}"))
    for m in members:
        m["evidence"] = [text for _, text in sorted(ties.get(m["user_id"], []),
                                                    key=lambda x: (-x[0], x[1]))]
    return {"ring": head[0], "members": members,
            "entities": sorted(entities.values(), key=lambda e: (-e["members"], e["kind"],
                                                                 e["id"])),
            "edges": edges, "shared_by_kind": by_kind}


def member_detail(store: GraphStore, user_id: str) -> dict[str, Any]:
    """A user: score, percentile, reasons, verdict, ring, and a timeline of orders and
    sessions (device/IP use), newest first, with totals."""
    head = _read(store, "workbench/member", user_id=user_id)
    if not head:
        raise NotFound(f"no user {user_id!r}")
    counts = _read(store, "workbench/member_counts", user_id=user_id)[0]
    orders = _read(store, "workbench/member_orders", user_id=user_id, limit=SHOWN_ORDERS)
    sessions = _read(store, "workbench/member_sessions", user_id=user_id,
                     limit=SHOWN_SESSIONS)
    timeline = ([{"type": "order", "at": o["at"], **o} for o in orders]
                + [{"type": "session", "at": s["last_seen"], **s} for s in sessions])
    timeline.sort(key=lambda t: -(t["at"] or 0))
    return {"user": head[0], "orders": orders, "orders_total": int(counts["orders"]),
            "sessions": sessions, "sessions_total": int(counts["sessions"]),
            "timeline": timeline}


def entity_detail(store: GraphStore, entity_id: str, limit: int = 100) -> dict[str, Any]:
    """The users of a device, IP, card or address, with score, ring and first/last use."""
    rows = _read(store, "workbench/entity_users", id=entity_id, limit=limit + 1)
    if not rows:
        raise NotFound(f"no device, IP, card or address {entity_id!r} with users")
    return {"kind": rows[0]["kind"], "id": entity_id, "users": rows[:limit],
            "more": len(rows) > limit}


def search(store: GraphStore, text: str, limit: int = 20) -> dict[str, Any]:
    """Users, orders, devices, IPs, cards and addresses whose key starts with ``text``."""
    text = text.strip()
    if not text:
        return {"results": [], "more": False}
    rows = _read(store, "workbench/search", q=text, limit=limit + 1)
    return {"results": rows[:limit], "more": len(rows) > limit}


def set_verdict(store: GraphStore, entity: str, key: str, verdict: str, by: str,
                note: str = "") -> None:
    """Record a verdict on a user or an order (checked first; audited by the statement)."""
    if entity == "user":
        checked_write(store, "investigate/set_verdict",
                      {"user_id": key, "verdict": verdict, "by": by, "note": note})
    elif entity == "order":
        checked_write(store, "investigate/set_order_verdict",
                      {"order_id": key, "verdict": verdict, "by": by, "note": note})
    else:
        raise Refused([f"verdicts are for users and orders, not {entity!r}"])


def set_case_status(store: GraphStore, ring_id: str, status: str, by: str,
                    note: str = "") -> None:
    """Set a ring's case status (checked first; audited by the statement)."""
    checked_write(store, "investigate/set_ring_status",
                  {"ring_id": ring_id, "status": status, "by": by, "note": note})


def audit_trail(store: GraphStore, limit: int = 100) -> list[dict[str, Any]]:
    """The latest verdicts and case decisions, newest first."""
    return _read(store, "investigate/verdicts", limit=limit)
