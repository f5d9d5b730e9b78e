"""A canonical dump of a graph store: every node and relationship with all its properties.

Two dumps are equal exactly when the graphs are: nodes are written as their labels and
properties, relationships as their type, the canonical form of both endpoints (labels plus the
key property, or every property for nodes without a key) and their properties, all as JSON
with sorted keys, and the lines sorted. Internal ids never appear (they are not data).
Used by the bad-input test ("the store is unchanged") and the kill -9 trials.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from graph_build import schema

# Keys and values as two lists, not properties(n): lists of scalars decode fast, a map goes
# through the client's slow generic parser (5x slower for the whole dump).
NODES = ("MATCH (n) RETURN id(n) AS id, labels(n) AS labels, keys(n) AS keys, "
         "[k IN keys(n) | n[k]] AS vals SKIP $skip LIMIT $limit")
RELS = ("MATCH (a)-[r]->(b) RETURN id(a) AS a, id(b) AS b, type(r) AS type, keys(r) AS keys, "
        "[k IN keys(r) | r[k]] AS vals SKIP $skip LIMIT $limit")


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def _props(row: dict) -> dict:
    return dict(zip(row["keys"] or [], row["vals"] or [], strict=True))


def _endpoint(labels: list[str], props: dict) -> str:
    """A node as an endpoint: its labels and key when it has one, else all of it."""
    for label in sorted(labels):
        key = schema.KEYED_LABELS.get(label)
        if key and key in props:
            return _json([label, props[key]])
    return _json([sorted(labels), props])


def canonical_dump(store, page_size: int = 50_000) -> list[str]:
    """Sorted lines, one per node (``N …``) and relationship (``R …``)."""
    endpoints: dict[int, str] = {}
    lines: list[str] = []
    for page in store.read_pages(NODES, {}, page_size):
        for row in page:
            labels, props = sorted(row["labels"]), _props(row)
            endpoints[row["id"]] = _endpoint(labels, props)
            lines.append("N " + _json({"labels": labels, "props": props}))
    for page in store.read_pages(RELS, {}, page_size):
        for row in page:
            lines.append("R " + _json({"type": row["type"], "from": endpoints[row["a"]],
                                       "to": endpoints[row["b"]], "props": _props(row)}))
    return sorted(lines)


def digest(lines: list[str]) -> str:
    """SHA-256 of a dump (to print or compare cheaply)."""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def files_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (the store's persisted bytes)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
