"""Drift against the training reference, end to end: a trained checkpoint, a real store, a
shifted input (orders' amounts x 5), an alert naming the moved features, raised once."""

from __future__ import annotations

import json


def _drift_alerts(path) -> list[dict]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [a for a in map(json.loads, lines) if a["kind"] == "model_drift"]


def test_shifted_amounts_raise_one_drift_alert_naming_them(store, trained_ckpt, tmp_path):
    from graphgnn.model.checkpoint import load_scorer
    from graphgnn.scores.alerts import AlertConfig
    from graphgnn.scores.rescore import rescore_once

    scorer = load_scorer(trained_ckpt)
    path = tmp_path / "alerts.jsonl"
    config = AlertConfig(jsonl=path)
    # The graph the model was trained on: against the training reference, nothing moved.
    calm = rescore_once(store, scorer, alerts=config)
    assert calm.drift["reference"].startswith("training snapshot (test as of ")
    assert calm.drift["moved"] == [] and calm.drift["feature_psi_max"] < 0.01
    assert calm.drift["score_psi"] < 0.01 and _drift_alerts(path) == []

    store.write("MATCH (o:Order) SET o.amount = o.amount * 5")
    shifted = rescore_once(store, scorer, full=True, alerts=config)
    moved = shifted.drift["moved"]
    assert "Order.amount" in moved and all("amount" in m for m in moved), moved
    assert shifted.drift["features"]["Order.amount"] >= 0.25
    [alert] = _drift_alerts(path)
    assert "Order.amount" in alert["features"] and alert["run_id"] == shifted.result.run_id
    assert alert["reference"] == shifted.drift["reference"] == calm.drift["reference"]
    [run] = store.read("MATCH (r:ScoringRun {run_id: $id}) RETURN r.drift_reference AS ref, "
                       "r.drift_moved AS moved, r.drift_alert AS state",
                       {"id": shifted.result.run_id})
    assert run["ref"].startswith("training snapshot") and run["moved"] == moved
    assert json.loads(run["state"])["active"] == sorted(moved)

    # The drift persists over the next run: no second alert.
    again = rescore_once(store, scorer, full=True, alerts=config)
    assert "Order.amount" in again.drift["moved"]
    assert len(_drift_alerts(path)) == 1
    assert not any(a["kind"] == "model_drift" for a in again.alerts)
