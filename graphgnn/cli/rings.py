"""Print the top open fraud rings: id, size, score, members and the devices/IPs they share."""

from __future__ import annotations

from typing import Any

MEMBERS_SHOWN = 5


def top_rings(store, top: int = 10) -> list[dict[str, Any]]:
    """The ``top`` open rings by score, with a sample of members and shared entities."""
    from graph_build import cypher

    rows = store.read(cypher.render("rings/top_rings"), {"limit": int(top)})
    for row in rows:
        members = sorted(m for m in (row.get("members") or []) if m)
        row["members"] = members
        row["shared"] = list(row.get("shared") or [])
    return rows


def format_rings(rows: list[dict[str, Any]]) -> str:
    from graph_build.query import format_table

    table = []
    for r in rows:
        sample = ", ".join(r["members"][:MEMBERS_SHOWN])
        more = len(r["members"]) - MEMBERS_SHOWN
        table.append({"ring_id": r["ring_id"], "size": r["size"],
                      "score": f"{float(r['score'] or 0):.3f}",
                      "members": sample + (f" +{more}" if more > 0 else ""),
                      "shared": "; ".join(r["shared"][:3])})
    return format_table(table) if table else "(no open rings: run `fraudring score` first)"


def add_arguments(parser) -> None:
    parser.add_argument("--top", type=int, default=10, help="how many rings (default 10)")
    parser.add_argument("--json", action="store_true", help="rings as a JSON list")


def run(args) -> int:
    import json

    from graph_build.stores import open_store

    store = open_store(args.store)
    try:
        rows = top_rings(store, args.top)
    finally:
        store.close()
    print(json.dumps(rows, default=str) if args.json else format_rings(rows))
    return 0
