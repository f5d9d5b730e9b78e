"""Alerts after a rescore: a new ring, a grown ring, a ring crossing a score, model drift.

Each alert is one JSON object: ``{"kind", "key", "run_id", "at", ...}``; ``key`` is its
idempotency key (the same alert always has the same key). Sinks: a JSON-lines file (appended)
and an optional webhook (``POST`` of the object with an ``Idempotency-Key`` header; retried with
exponential backoff on connection errors and 5xx; a 4xx is not retried). Ring alerts are raised
once across runs: the ring node remembers what was delivered (``alerted_new_at``,
``alerted_size``, ``alerted_score_at``), written only after every sink accepted the alert, so an
undelivered alert is tried again by the next run (at least once; receivers dedupe by key).

A drift alert (``model_drift``) is raised once across runs too. It names every feature ``Label.
column`` (and every label's score, ``Label.anomaly_score``) whose PSI reached the drift level, and
is raised when at least one of them is **new**: not already alerted for this model. An alerted
item stays alerted while its PSI stays at or above ``drift_clear`` × the level (hysteresis: a
value wobbling around the level raises nothing); once below, it is back, and crossing the level
again raises a new alert. Items leaving the set raise nothing; a new model version starts afresh.
The state (``{"model", "active", "raised"}``, JSON) is kept on each run's ``ScoringRun`` record
(``drift_alert``) after delivery; the next run reads the latest one. The key hashes the model,
the count of drift alerts raised before and the new items, so a retried alert keeps its key.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_build import cypher

from graphgnn.timeutil import now_ms

Log = Callable[[str], None]


@dataclass
class AlertConfig:
    """Where alerts go, when a ring counts as grown or hot, and when drift counts as back
    (``drift_clear``: share of the drift level below which an alerted feature is back)."""

    jsonl: str | Path | None = None
    webhook: str | None = None
    grow_members: int = 3
    grow_share: float = 0.5
    score: float = 0.8
    drift_clear: float = 0.8
    retries: int = 4
    backoff_s: float = 0.5
    timeout_s: float = 10.0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.jsonl or self.webhook)


def _key(*parts: Any) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:20]


def ring_alerts(rings: list[dict], config: AlertConfig, run_id: str) -> list[dict]:
    """Alerts the open rings call for, given what each already raised."""
    out = []
    at = now_ms()
    for r in rings:
        rid, size, score = r["ring_id"], int(r["size"] or 0), float(r["score"] or 0.0)
        base = {"ring_id": rid, "size": size, "score": round(score, 4),
                "shared": r.get("shared") or [], "run_id": run_id, "at": at}
        if r.get("alerted_new_at") is None:
            out.append({"kind": "ring_new", "key": _key("new", rid), **base})
        else:
            before = int(r.get("alerted_size") or 0)
            if before and (size - before >= config.grow_members
                           or size >= before * (1 + config.grow_share)):
                out.append({"kind": "ring_grown", "key": _key("grown", rid, size),
                            "previous_size": before, **base})
        if score >= config.score and r.get("alerted_score_at") is None:
            out.append({"kind": "ring_score", "key": _key("score", rid), "threshold":
                        config.score, **base})
    return out


def drift_items(drift: dict[str, Any]) -> dict[str, float]:
    """Every monitored item and its PSI: ``Label.column`` features, ``Label.anomaly_score``."""
    items = {str(k): float(v) for k, v in (drift.get("features") or {}).items()}
    items.update({f"{label}.anomaly_score": float(v)
                  for label, v in (drift.get("scores") or {}).items()})
    return items


def drift_alert(drift: dict[str, Any], state: dict[str, Any], run_id: str, level: float,
                clear: float = 0.8) -> tuple[dict | None, dict, dict]:
    """The drift alert this run calls for, given the state the last runs left.

    Returns ``(alert or None, state once it is delivered, state if it is not)``.
    """
    model = str(drift.get("model_version") or "")
    psi = drift_items(drift)
    same = state.get("model") == model
    kept = [i for i in (state.get("active") or []) if same and psi.get(i, 0.0) >= clear * level]
    raised = int(state.get("raised") or 0)
    moved = [k for _, k in sorted(((v, k) for k, v in psi.items() if v >= level),
                                  reverse=True)]
    new = sorted(i for i in moved if i not in kept)
    undelivered = {"model": model, "active": kept, "raised": raised}
    if not new:
        return None, undelivered, undelivered
    features = [i for i in moved if not i.endswith(".anomaly_score")]
    alert = {"kind": "model_drift", "key": _key("drift", model, raised + 1, *new),
             "run_id": run_id, "at": now_ms(), "model_version": model, "features": features,
             "scores": [i.rsplit(".", 1)[0] for i in moved if i.endswith(".anomaly_score")],
             "new": new, "psi": {i: psi[i] for i in moved}, "level": level,
             "reference": drift.get("reference"), "score_psi": drift.get("score_psi"),
             "feature_psi_max": drift.get("feature_psi_max")}
    delivered = {"model": model, "active": sorted(set(kept) | set(moved)), "raised": raised + 1}
    return alert, delivered, undelivered


def drift_state(store) -> dict[str, Any]:
    """The drift alert state the latest run left (empty when none did)."""
    rows = store.read(cypher.render("alerts/drift_state"))
    try:
        state = json.loads(rows[0]["state"]) if rows else {}
    except (TypeError, ValueError):
        state = {}
    return state if isinstance(state, dict) else {}


def post(url: str, alert: dict, config: AlertConfig, log: Log) -> bool:
    """POST one alert, retrying with exponential backoff; True once the receiver took it."""
    body = json.dumps(alert).encode()
    delay = config.backoff_s
    for attempt in range(1, config.retries + 1):
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": alert["key"],
            **config.headers})
        try:
            with urllib.request.urlopen(request, timeout=config.timeout_s) as response:
                if 200 <= response.status < 300:
                    return True
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500 and e.code not in (408, 429):
                log(f"webhook refused alert {alert['key']}: HTTP {e.code}; not retrying")
                return False
            log(f"webhook answered HTTP {e.code} (attempt {attempt}/{config.retries})")
        except (urllib.error.URLError, OSError) as e:
            log(f"webhook unreachable: {e} (attempt {attempt}/{config.retries})")
        if attempt < config.retries:
            time.sleep(delay)
            delay *= 2
    return False


def deliver(alerts: list[dict], config: AlertConfig, log: Log) -> list[dict]:
    """Send alerts to every sink; returns those every sink accepted."""
    if not alerts:
        return []
    if config.jsonl:
        path = Path(config.jsonl)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            for alert in alerts:
                f.write(json.dumps(alert, sort_keys=True) + "\n")
    if not config.webhook:
        return alerts
    return [a for a in alerts if post(config.webhook, a, config, log)]


def raise_alerts(store, config: AlertConfig, run_id: str, drift: dict[str, Any] | None = None,
                 drift_level: float = 0.25, log: Log | None = None) -> list[dict]:
    """Work out, deliver and remember this run's alerts; returns those delivered.

    ``drift`` is the run's :meth:`graphgnn.scores.monitor.Drift.figures` (None or empty: no
    monitoring, and the drift alert state is left as it was).
    """
    log = log or (lambda _m: None)
    if not config.enabled:
        return []
    rings = store.read(cypher.render("alerts/open_rings"))
    alerts = ring_alerts(rings, config, run_id)
    drift_plan = None
    if drift:
        drift_plan = drift_alert(drift, drift_state(store), run_id, drift_level,
                                 config.drift_clear)
        if drift_plan[0]:
            alerts.append(drift_plan[0])
    sent = deliver(alerts, config, log)
    _remember_rings(store, sent)
    if drift_plan is not None:
        alert, delivered, undelivered = drift_plan
        state = delivered if alert is not None and alert in sent else undelivered
        store.write(cypher.render("alerts/mark_drift_alerted"),
                    {"run_id": run_id, "state": json.dumps(state, sort_keys=True)})
    if len(sent) < len(alerts):
        log(f"alerts: {len(alerts) - len(sent)} not delivered; the next run tries again")
    if sent:
        log(f"alerts: {len(sent)} raised (" + ", ".join(sorted({a['kind'] for a in sent}))
            + ")")
    return sent


def _remember_rings(store, sent: list[dict]) -> None:
    """Mark on each ring node the ring alerts every sink accepted."""
    marks: dict[str, dict] = {}
    for a in sent:
        if "ring_id" not in a:
            continue
        m = marks.setdefault(a["ring_id"], {"ring_id": a["ring_id"], "new": False,
                                            "size": None, "score": False})
        if a["kind"] in ("ring_new", "ring_grown"):
            m["size"] = a["size"]
            m["new"] = m["new"] or a["kind"] == "ring_new"
        if a["kind"] == "ring_score":
            m["score"] = True
    if marks:
        store.write_rows(cypher.render("alerts/mark_alerted"), list(marks.values()),
                         params={"now": now_ms()})
