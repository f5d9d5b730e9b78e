"""Alerts: new/grown/hot rings once across runs, drift naming features, a real local webhook."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from fake_scorer import FakeScorer


def _lines(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_ring_alerts_are_raised_once_across_runs(store, tmp_path):
    from graphgnn.scores.alerts import AlertConfig
    from graphgnn.scores.rescore import rescore_once

    path = tmp_path / "alerts.jsonl"
    config = AlertConfig(jsonl=path, score=0.0)
    first = rescore_once(store, FakeScorer(), alerts=config)
    opened = first.result.rings
    assert opened > 0
    sent = _lines(path)
    assert sum(a["kind"] == "ring_new" for a in sent) == opened
    assert sum(a["kind"] == "ring_score" for a in sent) == opened  # every ring >= 0.0
    assert len({a["key"] for a in sent}) == len(sent)
    rescore_once(store, FakeScorer(), alerts=config, full=True)
    assert _lines(path) == sent  # nothing new happened: nothing raised again


def test_grown_ring_alert_by_members_or_share():
    from graphgnn.scores.alerts import AlertConfig, ring_alerts

    config = AlertConfig(grow_members=3, grow_share=0.5, score=0.9)
    rings = [
        {"ring_id": "a", "size": 7, "score": 0.5, "alerted_new_at": 1, "alerted_size": 4},
        {"ring_id": "b", "size": 4, "score": 0.5, "alerted_new_at": 1, "alerted_size": 5},
        {"ring_id": "c", "size": 3, "score": 0.95, "alerted_new_at": 1, "alerted_size": 2},
        {"ring_id": "d", "size": 21, "score": 0.5, "alerted_new_at": 1, "alerted_size": 20},
    ]
    kinds = {(a["ring_id"], a["kind"]) for a in ring_alerts(rings, config, "run-x")}
    # a: +3 members; b shrank (5 -> 4): no alert; c: +50% and crossed 0.9; d: +1 of 20: none
    assert kinds == {("a", "ring_grown"), ("c", "ring_grown"), ("c", "ring_score")}


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []
    fail_first = 0

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.headers["Idempotency-Key"], body))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_retries_with_the_same_idempotency_key(store, tmp_path):
    from graphgnn.scores.alerts import AlertConfig
    from graphgnn.scores.rescore import rescore_once

    _Hook.received, _Hook.fail_first = [], 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
        config = AlertConfig(webhook=url, backoff_s=0.05)
        outcome = rescore_once(store, FakeScorer(), alerts=config)
    finally:
        server.shutdown()
    assert outcome.alerts
    keys = [k for k, _ in _Hook.received]
    first = keys[0]
    assert keys[:3] == [first] * 3  # two 503s, then accepted: same key every time
    assert {k for k, _ in _Hook.received} == {a["key"] for a in outcome.alerts}
    assert all(body["key"] == key for key, body in _Hook.received)


class _Shifted(FakeScorer):
    """The fake model, with users' ``orders_24h`` moved well outside its usual range."""

    def score(self, frames, as_of=None):
        out = super().score(frames, as_of)
        users = out["User"]
        out["User"] = users.assign(orders_24h=users["orders_24h"] + 3.0 +
                                   np.linspace(0, 1, len(users)))
        return out


def _drift_alerts(path) -> list[dict]:
    return [a for a in _lines(path) if a["kind"] == "model_drift"]


def test_drift_alert_names_the_shifted_feature_once_across_runs(store, tmp_path):
    from graphgnn.scores.alerts import AlertConfig
    from graphgnn.scores.metrics import render
    from graphgnn.scores.rescore import rescore_once

    path = tmp_path / "alerts.jsonl"
    config = AlertConfig(jsonl=path)
    # FakeScorer has no checkpoint metadata: the first run becomes the reference, and says so.
    first = rescore_once(store, FakeScorer(), alerts=config)
    assert first.drift["reference"].startswith("this run (the checkpoint has no training")
    calm = rescore_once(store, FakeScorer(), full=True, alerts=config)
    assert calm.drift["reference"].startswith(f"first run {first.result.run_id} (")
    assert calm.drift["moved"] == [] and calm.drift["feature_psi_max"] < 0.01
    shifted = rescore_once(store, _Shifted(), full=True, alerts=config)
    assert shifted.drift["moved"] == ["User.orders_24h"]
    assert shifted.drift["outside_max"] > 0.1  # values beyond the reference range
    [alert] = _drift_alerts(path)
    assert alert["features"] == ["User.orders_24h"] == alert["new"]
    assert alert["run_id"] == shifted.result.run_id and alert["psi"]["User.orders_24h"] >= 0.25
    [run] = store.read("MATCH (r:ScoringRun {run_id: $id}) RETURN r.drift_moved AS moved, "
                       "r.drift_feature_psi_max AS psi, r.drift_feature_names AS names, "
                       "r.drift_feature_psi AS values, r.drift_feature_outside AS outside",
                       {"id": shifted.result.run_id})
    assert run["moved"] == ["User.orders_24h"] and run["psi"] >= 0.25
    by_name = dict(zip(run["names"], run["values"], strict=True))
    assert by_name["User.orders_24h"] == run["psi"] and len(run["outside"]) == len(run["names"])
    text = render({"drift": shifted.drift}, {}, None)  # the metrics: one gauge per feature
    psi = float(text.split('feature_psi{feature="User.orders_24h"} ')[1].split()[0])
    assert psi == pytest.approx(run["psi"], rel=1e-5)  # printed with 6 significant digits
    assert text.count("_feature_psi{feature=") == len(run["names"])

    # Still shifted: the drift persists, nothing is raised again.
    again = rescore_once(store, _Shifted(), full=True, alerts=config)
    assert again.drift["moved"] == ["User.orders_24h"]
    assert len(_drift_alerts(path)) == 1 and not any(a["kind"] == "model_drift"
                                                      for a in again.alerts)
    # Back to normal, then shifted again: a new crossing, a new alert with a new key.
    rescore_once(store, FakeScorer(), full=True, alerts=config)
    rescore_once(store, _Shifted(), full=True, alerts=config)
    first_alert, second_alert = _drift_alerts(path)
    assert second_alert["features"] == ["User.orders_24h"]
    assert second_alert["key"] != first_alert["key"]


def _figures(model: str = "m1", **psi: float) -> dict:
    features = {k.replace("_", ".", 1): v for k, v in psi.items() if not k.endswith("score")}
    scores = {k.split("_", 1)[0]: v for k, v in psi.items() if k.endswith("score")}
    return {"model_version": model, "features": features, "scores": scores}


def test_drift_alert_hysteresis_new_items_and_models():
    from graphgnn.scores.alerts import drift_alert

    level = 0.25
    alert, state, _ = drift_alert(_figures(User_a=0.5, User_b=0.1), {}, "r1", level)
    assert alert["features"] == ["User.a"] and alert["new"] == ["User.a"]
    assert state == {"model": "m1", "active": ["User.a"], "raised": 1}
    # Dropped to 0.22: under the level but above 0.8 x level: still alerted, nothing new.
    alert, state, _ = drift_alert(_figures(User_a=0.22), state, "r2", level)
    assert alert is None and state["active"] == ["User.a"]
    alert, _, _ = drift_alert(_figures(User_a=0.3), state, "r3", level)
    assert alert is None  # back over the level without having been back: no repeat
    # Another feature crosses: one alert naming both, only b new.
    alert, state, _ = drift_alert(_figures(User_a=0.3, Order_amount=0.9), state, "r4", level)
    assert alert["features"] == ["Order.amount", "User.a"] and alert["new"] == ["Order.amount"]
    # a falls back under 0.8 x level: it leaves silently; crossing again raises a new alert.
    alert, state, _ = drift_alert(_figures(User_a=0.1, Order_amount=0.9), state, "r5", level)
    assert alert is None and state["active"] == ["Order.amount"]
    alert, state, _ = drift_alert(_figures(User_a=0.4, Order_amount=0.9), state, "r6", level)
    assert alert["new"] == ["User.a"] and state["raised"] == 3
    # The score distribution of a label counts as an item too.
    alert, state, _ = drift_alert(_figures(User_a=0.4, Order_amount=0.9, IP_score=0.6),
                                  state, "r7", level)
    assert alert["scores"] == ["IP"] and alert["new"] == ["IP.anomaly_score"]
    assert alert["features"] == ["Order.amount", "User.a"]
    # A new model version starts afresh: the same drift is news about that model.
    alert, _, _ = drift_alert(_figures("m2", User_a=0.4), state, "r8", level)
    assert alert["new"] == ["User.a"] and alert["model_version"] == "m2"


def test_undelivered_drift_alert_is_retried_with_its_key():
    from graphgnn.scores.alerts import drift_alert

    figures = _figures(User_a=0.5)
    alert, _, undelivered = drift_alert(figures, {}, "r1", 0.25)
    assert undelivered["active"] == [] and undelivered["raised"] == 0
    retry, _, _ = drift_alert(figures, undelivered, "r2", 0.25)
    assert retry["key"] == alert["key"] and retry["run_id"] == "r2"
