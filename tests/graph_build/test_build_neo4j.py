"""The same build against a real Neo4j 5 (docker compose up -d; NEO4J_URI=bolt://localhost:7687)."""

from __future__ import annotations

import os

import pytest

from graph_build.export import export_frames
from graph_build.to_graph import tables_to_frames
from graph_build.build import build, check_input
from graph_build.stats import graph_stats

pytestmark = pytest.mark.neo4j


@pytest.fixture()
def neo4j_store():
    from graph_build.stores import open_store

    store = open_store(os.environ["NEO4J_URI"])
    if graph_stats(store)["nodes"]["User"]:
        pytest.skip("the Neo4j database is not empty; these tests clear it")
    yield store
    store.clear()
    store.close()


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
