"""The workbench API on a real uvicorn server over a scored embedded store (FakeScorer scores).

``live`` (module scope) is shared with the browser test (``test_workbench_browser.py``).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import httpx
import pytest

from fake_scorer import FakeScorer

TOKEN = "wb-test-token-0123456789"


class TruthScorer(FakeScorer):
    """FakeScorer, with the generator's planted fraud users on top (a well-trained model's
    picture, without training): rings then form around the planted card and address rings."""

    def __init__(self, truth_dir) -> None:
        import pandas as pd

        super().__init__()
        truth = pd.read_csv(truth_dir / "truth" / "users.csv", dtype={"user_id": str})
        self.fraud = set(truth.loc[truth["is_fraud"].astype(int) == 1, "user_id"])

    def score(self, frames, as_of=None):
        out = super().score(frames, as_of)
        users = out["User"]
        planted = users["user_id"].isin(self.fraud).to_numpy()
        users["anomaly_score"] = users["anomaly_score"] * 0.6 + 0.4 * planted
        return out


@dataclass
class Live:
    url: str
    store: object
    app: object
    card_ring: str  # an open ring whose members share a card through their orders


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app, port: int):
    """Run ``app`` on uvicorn in a thread; returns (server, thread) once it accepts."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, thread


def card_ring(store) -> str:
    rows = store.read(
        "MATCH (u:User)-[:MEMBER_OF]->(r:FraudRing) WHERE r.closed_at IS NULL "
        "MATCH (u)-[:PLACED]->(:Order)-[:PAID_WITH]->(p:PaymentMethod) "
        "WITH r, p, count(DISTINCT u) AS n WHERE n >= 2 "
        "RETURN r.ring_id AS ring, max(n) AS n ORDER BY n DESC, ring LIMIT 1")
    assert rows, "the generator plants card-linked rings; none is open"
    return rows[0]["ring"]


@pytest.fixture(scope="module")
def live(tmp_path_factory, generated_dir):
    from graph_build.build import build
    from graph_build.stores.falkor import FalkorStore
    from graphgnn.api.app import create_app
    from graphgnn.api.settings import ServeSettings
    from graphgnn.scores.rescore import rescore_once

    store = FalkorStore(home=tmp_path_factory.mktemp("workbench"))
    build(generated_dir, store, log=lambda m: None)
    end = int(store.read("MATCH (o:Order) RETURN max(o.created_at) AS t")[0]["t"])
    scorer = TruthScorer(generated_dir)
    rescore_once(store, scorer, as_of=end - 3 * 86_400_000)
    rescore_once(store, scorer, as_of=end + 1)
    app = create_app(ServeSettings(token=TOKEN), store=store, scorer=FakeScorer())
    port = _free_port()
    server, thread = serve(app, port)
    yield Live(f"http://127.0.0.1:{port}", store, app, card_ring(store))
    server.should_exit = True
    thread.join(10)
    store.close()
    store.server.stop()


@pytest.fixture()
def client(live):
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=30) as c:
        yield c


def test_page_is_served_and_api_needs_the_token(live):
    page = httpx.get(live.url + "/")
    assert page.status_code == 200 and "cytoscape.min.js" in page.text
    js = httpx.get(live.url + "/wb/static/vendor/cytoscape.min.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert httpx.get(live.url + "/wb/static/../workbench.py").status_code == 404
    assert httpx.get(live.url + "/wb/api/rings").status_code == 401
    bad = httpx.get(live.url + "/wb/api/rings", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_missing_bundle_gives_a_clear_page(monkeypatch, tmp_path):
    from fastapi import FastAPI

    from graphgnn.api import workbench

    monkeypatch.setattr(workbench, "STATIC_DIR", tmp_path)
    app = FastAPI()
    app.include_router(workbench.router)
    port = _free_port()
    server, thread = serve(app, port)
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/")
    finally:
        server.should_exit = True
        thread.join(10)
    assert answer.status_code == 503
    assert "not built" in answer.text and "npm ci --prefix graphgnn/api/web" in answer.text


def test_queue_sorts_and_filters(client, live):
    all_rings = client.get("/wb/api/rings").json()
    assert all_rings["total"] == len(all_rings["rings"]) >= 3
    scores = [r["score"] for r in all_rings["rings"]]
    assert scores == sorted(scores, reverse=True)
    by_size = [r["size"] for r in client.get("/wb/api/rings?sort=size").json()["rings"]]
    assert by_size == sorted(by_size, reverse=True)
    grown = client.get("/wb/api/rings?change=grown").json()["rings"]
    assert all(r["size"] > r["prev_size"] for r in grown)
    big = client.get("/wb/api/rings?min_size=10").json()["rings"]
    assert all(r["size"] >= 10 for r in big)
    assert client.get("/wb/api/rings?limit=1").json()["total"] == all_rings["total"]
    assert client.get("/wb/api/rings?sort=nonsense").status_code == 422


def test_ring_detail_draws_every_shared_kind(client, live):
    d = client.get(f"/wb/api/rings/{live.card_ring}").json()
    assert d["ring"]["ring_id"] == live.card_ring
    assert d["shared_by_kind"]["card"] >= 1
    members = {m["user_id"] for m in d["members"]}
    ids = {(e["kind"], e["id"]) for e in d["entities"]}
    for edge in d["edges"]:
        assert edge["user_id"] in members and (edge["kind"], edge["entity"]) in ids
        assert edge["first_use"] <= edge["last_use"]
    assert all(e["members"] >= 2 for e in d["entities"])
    # every member is explained by what it shares inside the ring, entity named
    for m in d["members"]:
        assert m["evidence"], m
        named = {e.split(" ")[2] for e in m["evidence"]}
        assert named <= {e["id"] for e in d["entities"]}
    assert client.get("/wb/api/rings/ring-nope").status_code == 404


def test_member_detail_and_search(client, live):
    ring = client.get(f"/wb/api/rings/{live.card_ring}").json()
    user = ring["members"][0]["user_id"]
    d = client.get(f"/wb/api/users/{user}").json()
    assert d["user"]["user_id"] == user and d["user"]["pct"] is not None
    assert d["orders_total"] >= len(d["orders"]) >= 1
    assert {t["type"] for t in d["timeline"]} == {"order", "session"}
    ats = [t["at"] for t in d["timeline"]]
    assert ats == sorted(ats, reverse=True)
    found = client.get("/wb/api/search", params={"q": user}).json()["results"]
    assert found[0] == {"kind": "user", "id": user, "score": found[0]["score"],
                        "ring_id": live.card_ring}
    card = next(e["id"] for e in ring["entities"] if e["kind"] == "card")
    assert client.get("/wb/api/search", params={"q": card}).json()["results"][0]["kind"] == "card"
    users = client.get(f"/wb/api/entities/{card}").json()
    assert users["kind"] == "card" and len(users["users"]) >= 2


def test_verdict_and_case_status_are_checked_written_and_audited(client, live):
    user = client.get(f"/wb/api/rings/{live.card_ring}").json()["members"][0]["user_id"]
    ok = client.post("/wb/api/verdicts", json={"id": user, "verdict": "fraud", "by": "ann",
                                               "note": "shares the card"})
    assert ok.status_code == 200, ok.text
    [row] = live.store.read("MATCH (u:User {user_id: $id}) RETURN u.verdict AS v, "
                            "u.verdict_by AS by, u.verdict_note AS note", {"id": user})
    assert row == {"v": "fraud", "by": "ann", "note": "shares the card"}
    assert client.post("/wb/api/verdicts", json={"id": user, "verdict": "Fraud",
                                                 "by": "ann"}).status_code == 422
    unknown = client.post("/wb/api/verdicts", json={"id": "u-none", "verdict": "legit",
                                                    "by": "ann"})
    assert unknown.status_code == 422 and "no User with user_id 'u-none'" in unknown.text
    st = client.post(f"/wb/api/rings/{live.card_ring}/status",
                     json={"status": "investigating", "by": "ann"})
    assert st.status_code == 200, st.text
    queue = client.get("/wb/api/rings?status=investigating").json()["rings"]
    assert [r["ring_id"] for r in queue] == [live.card_ring]
    trail = client.get("/wb/api/audit").json()["entries"]
    assert trail[0]["entity"] == "FraudRing" and trail[0]["verdict"] == "investigating"
    assert any(e["id"] == user and e["verdict"] == "fraud" and e["by"] == "ann" for e in trail)


def test_read_only_refuses_writes(live):
    from graphgnn.api.app import create_app
    from graphgnn.api.settings import ServeSettings

    app = create_app(ServeSettings(token=TOKEN, read_only=True), store=live.store,
                     scorer=FakeScorer())
    port = _free_port()
    server, thread = serve(app, port)
    try:
        h = {"Authorization": f"Bearer {TOKEN}"}
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/wb/api/config", headers=h).json()["read_only"] is True
        refused = httpx.post(base + "/wb/api/verdicts", headers=h,
                             json={"id": "u0000001", "verdict": "legit", "by": "ann"})
        assert refused.status_code == 403
        assert httpx.get(base + "/wb/api/rings", headers=h).status_code == 200
    finally:
        server.should_exit = True
        thread.join(10)


def test_browser_guide_walks_the_saved_queries(live):
    page = httpx.get(live.url + "/guide")
    assert page.status_code == 200
    assert page.headers["access-control-allow-origin"] == "*"
    text = page.text
    assert text.startswith('<article class="guide">') and text.count("<slide") >= 10
    assert "datetime({epochMillis:" in text  # the Neo4j variants are the ones shown
    assert ":param ring_id =&gt;" in text and "style.grass" in text
