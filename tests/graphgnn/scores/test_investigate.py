"""Every query in cypher/investigate runs via `fraudring cypher -f` on a scored store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph_build import cypher

from fake_scorer import FakeScorer

INVESTIGATE = sorted((cypher.CYPHER_DIR / "investigate").glob("*.cypher"))


@pytest.fixture(scope="module")
def scored(tmp_path_factory, generated_dir):
    from graph_build.build import build
    from graph_build.stores.falkor import FalkorStore
    from graphgnn.scores.rescore import rescore_once

    store = FalkorStore(home=tmp_path_factory.mktemp("investigate"))
    build(generated_dir, store, log=lambda m: None)
    end = int(store.read("MATCH (o:Order) RETURN max(o.created_at) AS t")[0]["t"])
    rescore_once(store, FakeScorer(), as_of=end - 3 * 86_400_000)
    rescore_once(store, FakeScorer(), as_of=end + 1)  # incremental: rings may grow
    ring = store.read("MATCH (r:FraudRing) WHERE r.closed_at IS NULL "
                      "RETURN r.ring_id AS id ORDER BY r.score DESC LIMIT 1")[0]["id"]
    user = store.read("MATCH (u:User)-[:MEMBER_OF]->(:FraudRing {ring_id: $id}) "
                      "RETURN u.user_id AS id LIMIT 1", {"id": ring})[0]["id"]
    order = store.read("MATCH (o:Order) RETURN o.order_id AS id LIMIT 1")[0]["id"]
    yield store, {"ring_id": ring, "user_id": user, "order_id": order, "limit": 20,
                  "since": 0, "verdict": "fraud"}
    store.close()
    store.server.stop()


def test_every_investigate_file_has_title_and_params():
    assert len(INVESTIGATE) >= 6
    for path in INVESTIGATE:
        stmt = cypher.load(f"investigate/{path.stem}")
        assert path.read_text().startswith("// ") and stmt.title
        for p in stmt.params:
            assert f"${p}" in stmt.text, (path.name, p)


@pytest.mark.parametrize("path", INVESTIGATE, ids=[p.stem for p in INVESTIGATE])
def test_investigate_query_runs_and_returns_rows(path: Path, scored, monkeypatch, capsys):
    from graphgnn.cli import main

    store, values = scored
    monkeypatch.setenv("FRAUDRING_HOME", str(store.server.home))
    stmt = cypher.load(f"investigate/{path.stem}")
    argv = ["cypher", "-f", str(path), "--store", "embedded", "--json"]
    for p in stmt.params:
        argv += ["--param", f"{p}={json.dumps(values[p])}"]
    if path.stem.startswith("set_"):
        argv.append("--write")
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    if path.stem == "rings_grew":
        return  # may legitimately be empty; covered in test_rings
    assert rows, path.name


def test_verdict_is_set_and_readable(scored):
    from graph_build.query import run_query

    store, values = scored
    run_query(store, file=cypher.CYPHER_DIR / "investigate/set_verdict.cypher",
              params={"user_id": values["user_id"], "verdict": "legit"}, allow_write=True)
    rows = store.read("MATCH (u:User {user_id: $id}) RETURN u.verdict AS v", {"id":
                                                                              values["user_id"]})
    assert rows[0]["v"] == "legit"
    run_query(store, file=cypher.CYPHER_DIR / "investigate/set_verdict.cypher",
              params={"user_id": values["user_id"], "verdict": "maybe"}, allow_write=True)
    rows = store.read("MATCH (u:User {user_id: $id}) RETURN u.verdict AS v", {"id":
                                                                              values["user_id"]})
    assert rows[0]["v"] == "legit"  # only 'fraud' or 'legit' are accepted


def test_ring_members_show_shared_entities(scored):
    from graph_build.query import run_query

    store, values = scored
    rows = run_query(store, file=cypher.CYPHER_DIR / "investigate/ring_members.cypher",
                     params={"ring_id": values["ring_id"]})
    assert len(rows) >= 3 and all(r["ring_id"] == values["ring_id"] for r in rows)
    assert any(r["shared_with_members"] for r in rows)

