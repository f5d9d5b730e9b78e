"""The same build against a real Neo4j 5 (docker compose up -d; NEO4J_URI=bolt://localhost:7687)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from graph_build.export import export_frames
from graph_build.to_graph import tables_to_frames
from graph_build.build import build, check_input
from graph_build.stats import graph_stats

sys.path.insert(0, str(Path(__file__).parent / "stores"))
from neo4j_scratch import scratch_neo4j  # noqa: E402

pytestmark = pytest.mark.neo4j


@pytest.fixture()
def neo4j_store():
    """An empty Neo4j database; afterwards only the project's labels are removed."""
    with scratch_neo4j() as store:
        yield store


def test_build_is_exact_and_idempotent_on_neo4j(neo4j_store, generated_dir):
    build(generated_dir, neo4j_store, log=lambda _m: None)
    first = graph_stats(neo4j_store)
    result, _ = check_input(generated_dir)
    assert first["nodes"] == tables_to_frames(result.tables).summary()["nodes"]
    build(generated_dir, neo4j_store, log=lambda _m: None)
    assert graph_stats(neo4j_store) == first
    frames = export_frames(neo4j_store, page_size=5000)
    assert len(frames.nodes["User"]) == first["nodes"]["User"]
    assert len(frames.rels["USED_DEVICE"]) == first["relationships"]["USED_DEVICE"]
