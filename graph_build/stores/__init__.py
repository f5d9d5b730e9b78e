"""Choosing a store: the embedded FalkorDB by default, Neo4j when a URI says so."""

from __future__ import annotations

import os
import re
from pathlib import Path

from graph_build.errors import ConfigError
from graph_build.stores.base import GraphStore

NEO4J_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def masked(spec: str) -> str:
    """``spec`` with anything that may be credentials (before an ``@``) replaced by ``***``.

    Works on malformed URIs too (``bolt:/user:pw@host``), which a URL parser would keep whole.
    """
    if "@" not in spec:
        return spec
    head, _, host = spec.rpartition("@")
    scheme = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/*", head)
    return f"{scheme.group(0) if scheme else ''}***@{host}"


def open_store(spec: str | None = None, home: str | Path | None = None) -> GraphStore:
    """Open the store named by ``spec``.

    Args:
        spec: ``None`` (Neo4j when ``NEO4J_URI`` is set, else embedded), ``"embedded"``
            (always the embedded FalkorDB) or a Neo4j URI (``bolt://``, ``neo4j+s://``, …).
        home: data folder of the embedded store.

    Raises:
        ConfigError: ``spec`` is none of these.
        StoreError: the store cannot be reached.
    """
    if spec is None and os.environ.get("NEO4J_URI"):
        spec = os.environ["NEO4J_URI"]
    if spec is None or spec == "embedded":
        from graph_build.stores.falkor import FalkorStore

        return FalkorStore(home)
    if spec.lower().startswith(NEO4J_SCHEMES):
        from graph_build.stores.neo4j_store import Neo4jStore

        return Neo4jStore(spec)
    raise ConfigError(
        f"unknown store {masked(spec)!r}",
        hint="use 'embedded' or a Neo4j URI starting with "
        + ", ".join(NEO4J_SCHEMES)
        + " (e.g. bolt://localhost:7687; credentials from NEO4J_USERNAME / NEO4J_PASSWORD)",
    )


def store_from_env(home: str | Path | None = None) -> GraphStore:
    """The store the environment asks for: Neo4j if ``NEO4J_URI`` is set, else embedded."""
    return open_store(None, home)


__all__ = ["NEO4J_SCHEMES", "GraphStore", "open_store", "store_from_env"]
