"""Parameters reach the embedded store intact, whatever the text holds (no injection)."""

from __future__ import annotations

import pytest

from graph_build.stores.falkor import params_header

TRICKY = [
    "plain", "", 'quote " inside', "back\\slash", "trailing\\", "new\nline", "tab\tx",
    "ünïcödé ✓", "ctl\x01char", "'}] MATCH (n) DETACH DELETE n //", "`tick`", "{\"k\":1}",
]


def test_header_is_compact_cypher():
    text = params_header({"rows": [{"key": "a", "props": {"x": 1.5, "y": None, "z": True}}]})
    # Cypher keywords (True, null) are case-insensitive.
    assert text == 'CYPHER `rows`=[{`key`:"a",`props`:{`x`:1.5,`y`:null,`z`:True}}] '


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from graph_build.stores.falkor import FalkorStore

    store = FalkorStore(home=tmp_path_factory.mktemp("params"))
    # Read-only queries need the graph to exist (FalkorDB answers "empty key" otherwise).
    store.write("CREATE (:Product {product_id: 'seed'})")
    yield store
    store.close()
    store.server.stop()


@pytest.mark.parametrize("value", TRICKY)
def test_strings_round_trip(store, value):
    rows = store.read("UNWIND $rows AS row RETURN row.key AS key, row.props.v AS v",
                            {"rows": [{"key": value, "props": {"v": [value, 2, 2.5, True]}}]})
    assert rows == [{"key": value, "v": [value, 2, 2.5, True]}]


def test_write_rows_with_hostile_keys_creates_exactly_those_nodes(empty_store):
    from graph_build import cypher

    query = cypher.render("build/merge_nodes", label="User")
    empty_store.write_rows(query, [{"key": v, "props": {"country": v}} for v in TRICKY],
                           params={"seq": 1})
    got = empty_store.read("MATCH (u:User) RETURN u.user_id AS id, u.country AS c")
    assert sorted(r["id"] for r in got) == sorted(TRICKY)
    assert all(r["id"] == r["c"] for r in got)
