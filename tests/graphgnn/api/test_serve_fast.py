"""The fast serving path: answers from the cached batch state, new orders without the store."""

from __future__ import annotations

import time

from conftest import make_client



def _ready(client, timeout: float = 180.0):
    online = client.app.state.serve.online
    assert online.cache.wait(timeout), online.cache.last_error
    return online


def _order(store, **extra) -> dict:
    user = store.read("MATCH (u:User)-[:USED_DEVICE]->(d:Device) RETURN u.user_id AS u, "
                      "d.device_id AS d LIMIT 1")[0]
    product = store.read("MATCH (p:Product) RETURN p.product_id AS p LIMIT 1")[0]["p"]
    latest = store.read("MATCH (o:Order) RETURN max(o.created_at) AS t")[0]["t"]
    return {"order_id": "o-fast-test", "user_id": user["u"], "created_at": int(latest),
            "amount": 129.5, "device_id": user["d"], "ip": "203.0.113.9",
            "items": [{"product_id": product, "quantity": 1}]} | extra


def test_existing_nodes_answer_from_the_cache_equal_batch(built_store, serve_scorer):
    from graph_build.export import export_frames
    from graphgnn.scores.ingest import latest_event_time
    from graphgnn.scores.scoring import score_graph

    client = make_client(built_store, serve_scorer)
    state = _ready(client).cache.state
    as_of = latest_event_time(built_store)
    assert state.as_of == as_of
    batch = score_graph(serve_scorer, export_frames(built_store, as_of=as_of), as_of)
    sample = batch["User"].sample(40, random_state=5)
    worst = 0.0
    for key, expected in zip(sample["user_id"].astype(str), sample["anomaly_score"],
                             strict=True):
        r = client.post("/v1/score/user", json={"user_id": key})
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["path"] == "cache" and out["known"] and out["exact"]
        assert out["timing_ms"]["statements"] in (0.0, 1.0)  # at most the liveness check
        worst = max(worst, abs(out["anomaly_score"] - float(expected)))
    assert worst <= 1e-6, f"cache vs batch: max |diff| {worst:.2e}"
    order = batch["Order"].iloc[0]
    r = client.post("/v1/score/order", json=_order(built_store, order_id=str(order["order_id"])))
    assert r.json()["path"] == "cache"
    assert abs(r.json()["anomaly_score"] - float(order["anomaly_score"])) <= 1e-6


def test_new_order_is_scored_without_the_exact_path(built_store, serve_scorer):
    from graphgnn.api.fast_order import exact_recompute
    from graphgnn.api.fast_path import order_frames
    from graphgnn.api.schemas import OrderRequest

    client = make_client(built_store, serve_scorer)
    online = _ready(client)
    body = _order(built_store)
    r = client.post("/v1/score/order", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["path"] == "fast" and out["known"] is False and out["exact"] is False
    assert out["timing_ms"]["statements"] <= 1.0  # the liveness check at most, nothing else
    assert 0 < out["subgraph_nodes"] < 2_000
    metrics = client.get("/metrics").text
    assert 'fraudring_serve_path_total{path="fast"} 1.0' in metrics
    assert 'path="exact"' not in metrics
    # Against an exact recompute: the whole cached graph plus the order, through the batch
    # scorer. The approximation (stale co-user context of the user) stays small.
    state = online.cache.state
    hyp = order_frames(state, OrderRequest(**body))
    expected = exact_recompute(state, serve_scorer, hyp, body["order_id"], state.as_of)
    assert abs(out["anomaly_score"] - expected) < 0.05, (out["anomaly_score"], expected)
    # Nothing was written, and the cached state did not move.
    assert built_store.read("MATCH (o:Order {order_id: $k}) RETURN o.order_id AS k",
                            {"k": body["order_id"]}) == []
    assert online.cache.state is state and state.row("Order", body["order_id"]) is None


def test_cache_refreshes_after_a_new_scoring_run(store, serve_scorer):
    from graphgnn.scores.scoring import run_scoring

    client = make_client(store, serve_scorer)
    online = _ready(client)
    first = online.cache.state
    result = run_scoring(store, serve_scorer, rings=False)
    assert client.get("/v1/ready").json()["score_run"] == result.run_id
    deadline = time.monotonic() + 180
    while online.cache.state is first and time.monotonic() < deadline:
        time.sleep(0.1)
    state = online.cache.state
    assert state is not first and state.run_id == result.run_id
    # The new state ranks in the new run's distribution: an existing user gets a percentile.
    user = str(state.out.fs.frames.nodes["User"]["user_id"].iloc[0])
    out = client.post("/v1/score/user", json={"user_id": user}).json()
    assert out["path"] == "cache" and out["anomaly_pct"] is not None
    written = store.read("MATCH (u:User {user_id: $k}) RETURN u.anomaly_score AS s", {"k": user})
    assert abs(float(written[0]["s"]) - out["anomaly_score"]) <= 1e-6


def test_store_checked_at_most_every_liveness_s_and_down_is_503(store, serve_scorer):
    client = make_client(store, serve_scorer, liveness_s=0.3, retry_after_s=3)
    _ready(client)
    body = _order(store)
    first = client.post("/v1/score/order", json=body).json()
    second = client.post("/v1/score/order", json=body).json()
    assert first["path"] == second["path"] == "fast"
    # The first answer asked the store, the next one (within 0.3 s) did not.
    assert (first["timing_ms"]["statements"], second["timing_ms"]["statements"]) == (1.0, 0.0)
    store.server.stop()
    time.sleep(0.35)
    r = client.post("/v1/score/order", json=body)
    assert r.status_code == 503 and r.headers["Retry-After"] == "3"


def test_ring_ids_come_from_the_run_and_follow_a_newer_one(store, serve_scorer):
    from graphgnn.scores.scoring import run_scoring

    client = make_client(store, serve_scorer)
    online = _ready(client)
    body = _order(store)
    user = body["user_id"]
    store.write("MATCH (u:User {user_id: $k}) SET u.ring_id = 'ring-serve-test'", {"k": user})
    # Ring ids are a run's output: one set by hand is not this run's (and is not answered).
    assert client.post("/v1/score/order", json=body).json()["ring_id"] is None
    result = run_scoring(store, serve_scorer, rings=False)  # keeps the ring_id set above
    assert client.get("/v1/ready").json()["score_run"] == result.run_id
    assert online.distribution.ring_of(user) == "ring-serve-test"
    out = client.post("/v1/score/order", json=body).json()
    assert out["ring_id"] == "ring-serve-test" and out["path"] in ("fast", "exact")
