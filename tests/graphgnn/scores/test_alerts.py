"""Alerts: new/grown/hot rings once across runs, drift naming features, a real local webhook."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

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


def test_drift_alert_names_the_shifted_feature(store, tmp_path):
    from graphgnn.scores.alerts import AlertConfig
    from graphgnn.scores.rescore import rescore_once

    class Shifted(FakeScorer):
        def score(self, frames, as_of=None):
            out = super().score(frames, as_of)
            users = out["User"]
            out["User"] = users.assign(orders_24h=users["orders_24h"] + 3.0 +
                                       np.linspace(0, 1, len(users)))
            return out

    path = tmp_path / "alerts.jsonl"
    reference = rescore_once(store, FakeScorer(), alerts=AlertConfig(jsonl=path))
    assert reference.drift["reference"] == ""  # the first run made the reference
    calm = rescore_once(store, FakeScorer(), full=True, alerts=AlertConfig(jsonl=path))
    assert calm.drift["moved"] == [] and calm.drift["feature_psi_max"] < 0.01
    shifted = rescore_once(store, Shifted(), full=True, alerts=AlertConfig(jsonl=path))
    assert shifted.drift["moved"] == ["User.orders_24h"]
    assert shifted.drift["outside_max"] > 0.1  # values beyond the reference range
    [alert] = [a for a in _lines(path) if a["kind"] == "model_drift"]
    assert alert["features"] == ["User.orders_24h"]
    [run] = store.read("MATCH (r:ScoringRun {run_id: $id}) RETURN r.drift_moved AS moved, "
                       "r.drift_feature_psi_max AS psi", {"id": shifted.result.run_id})
    assert run["moved"] == ["User.orders_24h"] and run["psi"] >= 0.25
