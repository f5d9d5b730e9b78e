"""``fraudring serve --workers N``: the worker factory, and N real worker processes."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time

import pytest

from graphgnn.api.settings import ServeSettings
from graphgnn.api.workers import SETTINGS_ENV, app_from_env


def _order(store) -> dict:
    row = store.read("MATCH (u:User)-[:USED_DEVICE]->(d:Device) RETURN u.user_id AS u, "
                     "d.device_id AS d LIMIT 1")[0]
    latest = int(store.read("MATCH (o:Order) RETURN max(o.created_at) AS t")[0]["t"])
    return {"order_id": "w-1", "user_id": row["u"], "created_at": latest, "amount": 12.5,
            "device_id": row["d"], "items": []}


def _settings(built_store, serve_ckpt, port: int = 8765) -> ServeSettings:
    return ServeSettings(store="embedded", store_home=built_store.server.home, ckpt=serve_ckpt,
                         port=port, while_warming="unavailable")


def test_the_worker_factory_builds_the_app_of_the_settings(built_store, serve_ckpt,
                                                            monkeypatch):
    from fastapi.testclient import TestClient

    monkeypatch.setenv(SETTINGS_ENV, _settings(built_store, serve_ckpt).model_dump_json())
    app = app_from_env()
    app.state.serve.online.cache.wait(120)
    with TestClient(app) as client:
        r = client.post("/v1/score/order", json=_order(built_store))
        assert r.status_code == 200, r.text
        assert r.json()["path"] == "fast" and 0 <= r.json()["anomaly_score"] <= 1
        bad = client.post("/v1/score/order", json={**_order(built_store), "amount": -1})
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "amount"


def test_the_factory_refuses_to_start_without_settings(monkeypatch):
    monkeypatch.delenv(SETTINGS_ENV, raising=False)
    with pytest.raises(RuntimeError, match=SETTINGS_ENV):
        app_from_env()


@pytest.mark.slow
def test_two_worker_processes_answer(built_store, serve_ckpt):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = _settings(built_store, serve_ckpt, port)
    code = ("import sys; from graphgnn.api.settings import ServeSettings; "
            "from graphgnn.api.workers import run_workers; "
            "run_workers(ServeSettings.model_validate_json(sys.argv[1]), 2, 'warning')")
    proc = subprocess.Popen([sys.executable, "-c", code, settings.model_dump_json()])
    body = json.dumps(_order(built_store)).encode()
    pids, fast, t = set(), 0, time.monotonic()
    try:
        while fast < 40 and time.monotonic() - t < 300:
            assert proc.poll() is None, "the supervisor exited"
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("POST", "/v1/score/order", body,
                             {"Content-Type": "application/json", "Connection": "close"})
                r = conn.getresponse()
                ok = r.status == 200 and json.loads(r.read())["path"] == "fast"
            except OSError:
                ok = False
            finally:
                conn.close()
            fast = fast + 1 if ok else 0
            if not ok:
                time.sleep(0.5)
        assert fast >= 40, "the workers never all answered from their caches"
        import psutil

        pids = {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
        assert len(pids) >= 2  # two worker processes under the supervisor
    finally:
        proc.terminate()
        proc.wait(30)
