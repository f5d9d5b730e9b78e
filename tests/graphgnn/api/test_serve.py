"""``fraudring serve``: validation, auth, limits, store down, writes, metrics, a real server."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
from conftest import make_client

from graph_build import schema

TOKEN = "t0ken-for-tests-0123456789"


def _order(store, **extra) -> dict:
    """A hypothetical order of an existing user, on an existing device and product."""
    user = store.read("MATCH (u:User)-[:USED_DEVICE]->(d:Device) RETURN u.user_id AS u, "
                      "d.device_id AS d, u.created_at AS t LIMIT 1")[0]
    product = store.read("MATCH (p:Product) RETURN p.product_id AS p LIMIT 1")[0]["p"]
    latest = store.read("MATCH (o:Order) RETURN max(o.created_at) AS t")[0]["t"]
    body = {"order_id": "o-serve-test", "user_id": user["u"], "created_at": int(latest),
            "amount": 129.5, "device_id": user["d"], "ip": "203.0.113.7",
            "items": [{"product_id": product, "quantity": 2, "price": 64.75}]}
    return body | extra


def test_score_order_hypothetical_answers_and_writes_nothing(client, built_store):
    body = _order(built_store)
    r = client.post("/v1/score/order", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert 0.0 <= out["anomaly_score"] <= 1.0
    assert out["action"] in ("allow", "review", "block")
    assert out["label"] == "Order" and out["key"] == body["order_id"]
    assert out["known"] is False and out["written"] is False
    assert out["model_version"].startswith("sage-") and out["as_of"] == body["created_at"]
    assert built_store.read("MATCH (o:Order {order_id: $k}) RETURN o.order_id AS k",
                            {"k": body["order_id"]}) == []


@pytest.mark.parametrize(("change", "field"), [
    ({"order_id": "o1 "}, "order_id"),
    ({"user_id": "u\x00x"}, "user_id"),
    ({"amount": -1}, "amount"),
    ({"amount": 1e12}, "amount"),
    ({"created_at": "yesterday"}, "created_at"),
    ({"created_at": 5}, "created_at"),
    ({"items": [{"product_id": "p", "quantity": 0}]}, "items.0.quantity"),
    ({"surprise": 1}, "surprise"),
])
def test_validation_422_names_the_field(client, built_store, change, field):
    r = client.post("/v1/score/order", json=_order(built_store, **change))
    assert r.status_code == 422
    out = r.json()
    assert out["error"] == "validation"
    assert field in [f["field"] for f in out["fields"]]
    assert "Traceback" not in r.text


def test_body_limit_413(client):
    r = client.post("/v1/score/order", content=b"{" + b" " * 100_000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "request_too_large"


def test_token_required_when_set_and_read_only_forbids_writes(built_store, serve_scorer):
    c = make_client(built_store, serve_scorer, token=TOKEN, read_only=True)
    body = _order(built_store)
    assert c.post("/v1/score/order", json=body).status_code == 401
    assert c.post("/v1/score/order", json=body,
                  headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401
    assert c.get("/metrics").status_code == 401
    ok = c.post("/v1/score/order", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200, ok.text
    alt = c.post("/v1/score/order", json=body, headers={"X-Fraudring-Token": TOKEN})
    assert alt.status_code == 200
    w = c.post("/v1/score/order", json=body | {"write": True},
               headers={"X-Fraudring-Token": TOKEN})
    assert w.status_code == 403 and "read-only" in w.json()["detail"]


def test_exposed_host_without_token_is_a_config_error(built_store, serve_scorer):
    from graph_build.errors import ConfigError
    from graphgnn.api.app import create_app
    from graphgnn.api.settings import ServeSettings

    with pytest.raises(ConfigError, match="token"):
        create_app(ServeSettings(host="0.0.0.0"), store=built_store, scorer=serve_scorer)
    app = create_app(ServeSettings(host="0.0.0.0", token=TOKEN), store=built_store,
                     scorer=serve_scorer)
    assert app.state.scorer is serve_scorer


def test_written_order_appears_in_the_graph(store, serve_scorer):
    c = make_client(store, serve_scorer)
    body = _order(store, order_id="o-written-1", write=True, address_id="a-new-serve")
    r = c.post("/v1/score/order", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["written"] is True
    rows = store.read(
        "MATCH (u:User)-[:PLACED]->(o:Order {order_id: $k})-[:CONTAINS]->(p:Product) "
        "MATCH (o)-[:SHIPPED_TO]->(a:Address) MATCH (o)-[:FROM_IP]->(i:IP) "
        "RETURN u.user_id AS u, o.amount AS amount, a.address_id AS a, i.ip AS ip, "
        "o.ingest_seq AS seq", {"k": "o-written-1"})
    assert rows and rows[0]["u"] == body["user_id"] and rows[0]["a"] == "a-new-serve"
    assert abs(float(rows[0]["amount"]) - 129.5) < 1e-9 and rows[0]["ip"] == "203.0.113.7"
    # Scoring it again now reads it from the graph: the same score as the hypothetical.
    again = c.post("/v1/score/order", json=body | {"write": False}).json()
    assert again["known"] is True
    assert abs(again["anomaly_score"] - r.json()["anomaly_score"]) < 1e-4
    # A row the build rejects is a 422 from the build's own validation, nothing written.
    bad = c.post("/v1/score/order", json=body | {"order_id": "o-written-2",
                                                 "items": [{"product_id": "p-none",
                                                            "quantity": 1}]})
    assert bad.status_code == 200  # hypothetical: unknown products are fine to score


def test_store_down_is_503_with_retry_after(store, serve_scorer):
    # liveness_s=0: every answer asks the store (the window is test_serve_fast's)
    c = make_client(store, serve_scorer, retry_after_s=7, liveness_s=0)
    body = _order(store)
    assert c.post("/v1/score/order", json=body).status_code == 200
    store.server.stop()
    r = c.post("/v1/score/order", json=body)
    assert r.status_code == 503 and r.headers["Retry-After"] == "7"
    assert r.json()["error"] == "unavailable" and "Traceback" not in r.text
    ready = c.get("/v1/ready")
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "7"
    assert c.get("/v1/health").status_code == 200
    metrics = c.get("/metrics").text
    assert "fraudring_serve_store_errors_total 1.0" in metrics


def test_metrics_count_requests_latency_and_actions(client, built_store):
    client.post("/v1/score/order", json=_order(built_store))
    client.post("/v1/score/order", json={"order_id": "x"})
    text = client.get("/metrics").text
    assert 'fraudring_serve_requests_total{method="POST",route="/v1/score/order",' \
           'status="200"} 1.0' in text
    assert 'status="422"} 1.0' in text
    assert 'fraudring_serve_request_seconds_bucket{le="0.01",route="/v1/score/order"}' in text
    assert "fraudring_serve_actions_total{action=" in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_end_to_end_real_uvicorn_server(built_store, serve_scorer):
    import uvicorn

    from graphgnn.api.app import create_app
    from graphgnn.api.settings import ServeSettings

    port = _free_port()
    app = create_app(ServeSettings(port=port, token=TOKEN), store=built_store,
                     scorer=serve_scorer)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            assert http.get("/v1/health").json() == {"status": "ok"}
            r = http.post("/v1/score/order", json=_order(built_store), headers=auth)
            assert r.status_code == 200, r.text
            user = http.post("/v1/score/user", json={"user_id": _order(built_store)["user_id"]},
                             headers=auth)
            assert user.status_code == 200 and user.json()["known"] is True
            assert http.get("/docs").status_code == 200
            assert "fraudring_serve_requests_total" in http.get("/metrics", headers=auth).text
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_online_scores_equal_batch_scores(built_store, serve_scorer):
    """>= 200 existing nodes: the online path (neighbourhood fetch -> frames -> the batch
    scorer) gives the batch score of the full graph at the same as-of, within 1e-4."""
    import pandas as pd

    from graph_build.export import export_frames
    from graphgnn.api.online import OnlineScorer
    from graphgnn.api.settings import ServeSettings
    from graphgnn.scores.scoring import score_graph

    frames = export_frames(built_store)
    as_of = int(pd.to_numeric(frames.nodes["Order"]["created_at"]).max())
    batch = score_graph(serve_scorer, frames, as_of)
    online = OnlineScorer(built_store, serve_scorer, ServeSettings())
    worst, checked = 0.0, 0
    for label, n in (("User", 150), ("Order", 60)):
        key = schema.node(label).key
        sample = batch[label].sample(n, random_state=3)
        got = online.score_existing(label, sample[key].astype(str).tolist(), as_of)
        for k, expected in zip(sample[key].astype(str), sample["anomaly_score"], strict=True):
            worst = max(worst, abs(got[k] - float(expected)))
            checked += 1
    assert checked >= 200
    assert worst <= 1e-4, f"online vs batch: max |diff| {worst:.2e} over {checked} nodes"
