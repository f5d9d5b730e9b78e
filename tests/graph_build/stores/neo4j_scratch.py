"""A real Neo4j for tests that never deletes what the tests did not write.

Why: the old fixtures checked only for ``User`` nodes and then ran ``MATCH (n) DETACH DELETE n``,
which deleted an investigator's unrelated ``:Keep`` and ``:Account`` nodes. Now a test runs only
on a database that is empty at its start (any label), and cleans up label by label, only the
labels the project writes (the schema's whitelist).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from graph_build import cypher, schema

CLEANUP_BATCH = 10_000


def project_labels() -> tuple[str, ...]:
    """Every node label the project writes: the schema's node labels and scoring's."""
    return tuple(dict.fromkeys([*schema.KEYED_LABELS, *schema.SCORING_LABELS]))


def cleanup_statements() -> list[str]:
    """One batched delete per project label; never an unlabelled ``MATCH (n)``."""
    return [f"MATCH (n:{cypher.check_identifier(label)}) WITH n LIMIT $batch DETACH DELETE n"
            for label in project_labels()]


def remove_project_nodes(store) -> None:
    """Delete the nodes (and their relationships) of the project's labels, in batches."""
    for statement in cleanup_statements():
        while store.write(statement, {"batch": CLEANUP_BATCH})["nodes_deleted"]:
            pass


@contextlib.contextmanager
def scratch_neo4j() -> Iterator:
    """The Neo4j of ``NEO4J_URI``, when its database holds nothing at all; cleaned afterwards."""
    from graph_build.stores.neo4j_store import Neo4jStore

    if not os.environ.get("NEO4J_URI"):
        pytest.skip("set NEO4J_URI to run against a real Neo4j")
    store = Neo4jStore()
    try:
        if store.read("MATCH (n) RETURN count(n) AS n")[0]["n"]:
            pytest.skip(f"{store.location} holds data; these tests write into it, so they run "
                        "only on an empty database (point NEO4J_DATABASE at a scratch one)")
        yield store
        remove_project_nodes(store)
    finally:
        store.close()
