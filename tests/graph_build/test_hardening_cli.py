"""Small hardening items: a stuck server has its own status code, mapping sources outside the data
folder only when asked, labels naming unknown ids are counted, no test reaches a real Neo4j."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from graph_build.build import build
from graph_build.stores.embedded_server import EmbeddedServer
from graphgnn.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
USERS = "user_id,created_at\nu1,2026-01-01T00:00:00Z\nu2,2026-01-02T00:00:00Z\n"
ORDERS = "order_id,user_id,created_at,amount\no1,u1,2026-01-03T00:00:00Z,5\n"


def test_db_status_of_a_stuck_server_says_so_with_its_own_code(tmp_path, monkeypatch, capsys):
    home = tmp_path / "h"
    monkeypatch.setenv("FRAUDRING_HOME", str(home))
    server = EmbeddedServer(home)
    pid = server.start().pid
    try:
        os.kill(pid, signal.SIGSTOP)  # holds the folder's lock, answers nothing
        assert cli_main(["db", "status"]) == 4
        out = capsys.readouterr()
        assert "stuck" in out.out and f"pid {pid}" in out.out and "kill -CONT" in out.err
    finally:
        os.kill(pid, signal.SIGCONT)
        server.stop()
    assert cli_main(["db", "status"]) == 3


def _mapped(tmp_path: Path) -> tuple[Path, Path]:
    """A data folder whose mapping reads its users from a file beside (outside) it."""
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "users_elsewhere.csv").write_text(USERS)
    (data / "orders.csv").write_text(ORDERS)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "sources:\n  u: {file: ../users_elsewhere.csv}\n  o: {file: orders.csv}\n"
        "tables:\n"
        "  users: {from: u, columns: {user_id: user_id, created_at: created_at}}\n"
        "  orders: {from: o, columns: {order_id: order_id, user_id: user_id, "
        "created_at: created_at, amount: amount}}\n")
    return data, mapping


def test_build_reads_outside_the_data_folder_only_when_allowed(tmp_path, monkeypatch, capsys):
    data, mapping = _mapped(tmp_path)
    monkeypatch.setenv("FRAUDRING_HOME", str(tmp_path / "store"))
    args = ["build", "--data", str(data), "--mapping", str(mapping), "--store", "embedded"]
    try:
        assert cli_main(args) == 2
        assert "outside the data folder" in capsys.readouterr().err
        assert not (tmp_path / "store" / "db").exists()  # refused before any server started
        assert cli_main([*args, "--allow-outside-paths", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["nodes"]["User"] == 2 and report["nodes"]["Order"] == 1
    finally:
        EmbeddedServer(tmp_path / "store").stop()


def test_labels_naming_unknown_ids_are_counted_and_logged(tmp_path, empty_store):
    data = tmp_path / "data"
    data.mkdir()
    (data / "users.csv").write_text(USERS)
    (data / "orders.csv").write_text(ORDERS)
    (data / "labels.csv").write_text(
        "entity,id,is_fraud,labeled_at\nuser,u1,true,\nuser,u404,true,\nuser,u405,false,\n"
        "order,o1,false,\norder,o404,true,\n")
    lines: list[str] = []
    report = build(data, empty_store, log=lines.append)
    assert report.labels_unknown == {"user": 2, "order": 1}
    assert any("3 rows name an id" in line and "user 2, order 1" in line for line in lines)
    verdicts = empty_store.read("MATCH (u:User) WHERE u.verdict IS NOT NULL "
                                "RETURN u.user_id AS id, u.verdict AS v")
    assert verdicts == [{"id": "u1", "v": "fraud"}]


def test_no_test_without_the_neo4j_marker_sees_neo4j_uri():
    assert "NEO4J_URI" not in os.environ


def test_neo4j_uri_is_unset_even_when_the_shell_sets_it():
    """Run the test above in a pytest whose environment points at a Neo4j: it still passes."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{Path(__file__)}::test_no_test_without_the_neo4j_marker_sees_neo4j_uri"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "NEO4J_URI": "bolt://127.0.0.1:9"})
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.neo4j
def test_a_neo4j_test_keeps_neo4j_uri():
    assert os.environ.get("NEO4J_URI")
