"""`fraudring rescore` as operators run it: exit codes, --json, JSON logs, metrics, --every."""

from __future__ import annotations

import json

import pytest

from fake_scorer import FakeScorer


@pytest.fixture()
def cli(store, monkeypatch):
    from graphgnn.cli import options

    monkeypatch.setattr(options, "load_checkpoint", lambda ckpt: FakeScorer())
    monkeypatch.setenv("FRAUDRING_HOME", str(store.server.home))
    from graphgnn.cli import main

    return main


def test_once_json_metrics_and_busy(cli, store, tmp_path, capsys):
    from graphgnn.scores.lock import StoreLock

    metrics = tmp_path / "rescore.prom"
    assert cli(["rescore", "--once", "--json", "--log-format", "json",
                "--metrics-file", str(metrics)]) == 0
    out, err = capsys.readouterr()
    [summary] = [json.loads(line) for line in out.splitlines()]
    assert summary["status"] == "succeeded" and summary["exit_code"] == 0
    assert summary["mode"] == "full" and summary["reason"] == "no succeeded run yet"
    assert summary["nodes_scored"] == summary["nodes_in_graph"] > 0
    logs = [json.loads(line) for line in err.splitlines()]
    assert logs and all({"ts", "level", "msg"} <= set(x) for x in logs)
    text = metrics.read_text()
    assert 'fraudring_rescore_runs_total{status="succeeded"} 1' in text
    assert "fraudring_rescore_last_success_timestamp_seconds" in text
    assert 'fraudring_rescore_rings{state="open"}' in text
    with StoreLock(store, ttl_s=600, owner="someone-else"):
        assert cli(["rescore", "--once", "--json", "--metrics-file", str(metrics)]) == 75
    assert json.loads(capsys.readouterr().out)["status"] == "skipped"
    text = metrics.read_text()
    assert 'fraudring_rescore_runs_total{status="succeeded"} 1' in text  # carried over
    assert 'fraudring_rescore_runs_total{status="skipped"} 1' in text
    assert "fraudring_rescore_last_exit_code 75" in text


def test_every_backs_off_and_stops_after_repeated_permanent_errors(store, monkeypatch,
                                                                   capsys):
    from graphgnn.cli import main

    monkeypatch.setenv("FRAUDRING_HOME", str(store.server.home))
    code = main(["rescore", "--every", "1h", "--ckpt", "/nonexistent/x.ckpt",
                 "--retry-base", "0.05s", "--max-errors", "3", "--json"])
    assert code == 78
    out, err = capsys.readouterr()
    runs = [json.loads(line) for line in out.splitlines()]
    assert [r["status"] for r in runs] == ["config_error"] * 3
    delays = [float(line.split("retrying in ")[1].split(" s")[0])
              for line in err.splitlines() if "retrying in" in line]
    assert delays == [0.05, 0.1]  # exponential, then stopped
    assert "stopping: 3 permanent errors in a row" in err


def test_exit_codes_are_distinct():
    from graphgnn.cli.rescore import STATUS_CODES

    assert len(set(STATUS_CODES.values())) == len(STATUS_CODES) == 5
    assert STATUS_CODES["succeeded"] == 0
