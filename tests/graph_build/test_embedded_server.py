"""The embedded FalkorDB server: one per data folder, password-protected, persistent."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from graph_build.errors import StoreError
from graph_build.stores.embedded_server import EmbeddedServer
from graph_build.stores.falkor import FalkorStore
from graphgnn.cli import main as cli_main


def test_concurrent_starts_share_one_server(tmp_path):
    home = tmp_path / "h"
    # Two processes race to start the server of the same folder.
    code = ("import sys; from graph_build.stores.embedded_server import EmbeddedServer; "
            "print(EmbeddedServer(sys.argv[1]).start().pid)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(home)], stdout=subprocess.PIPE,
                              text=True) for _ in range(2)]
    pids = {p.communicate(timeout=60)[0].strip() for p in procs}
    server = EmbeddedServer(home)
    try:
        assert len(pids) == 1 and str(server.status().pid) in pids
        with ThreadPoolExecutor(4) as pool:
            assert len({i.pid for i in pool.map(lambda _: server.start(), range(4))}) == 1
    finally:
        server.stop()
    assert server.status() is None


def test_server_is_private_and_data_persists(tmp_path):
    home = tmp_path / "h"
    store = FalkorStore(home=home)
    info = store.server.status()
    assert info.unix_socket and info.port is None  # no TCP port at all
    assert stat.S_IMODE(os.stat(home / "password").st_mode) == 0o600
    assert json.loads((home / "server.json").read_text())["password"] == info.password
    store.write("CREATE (:User {user_id: 'persisted'})")
    store.close()
    assert store.server.stop()
    again = FalkorStore(home=home)
    try:
        rows = again.read("MATCH (u:User) RETURN u.user_id AS id")
        assert rows == [{"id": "persisted"}]
    finally:
        again.close()
        again.server.stop()


def test_long_folder_paths_fall_back_to_loopback_tcp(tmp_path):
    home = tmp_path / ("x" * 120)
    server = EmbeddedServer(home)
    try:
        info = server.start()
        assert info.unix_socket is None and info.port
    finally:
        server.stop()


def test_db_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FRAUDRING_HOME", str(tmp_path / "cli"))
    assert cli_main(["db", "status"]) == 3
    assert "not running" in capsys.readouterr().out
    assert cli_main(["db", "start"]) == 0
    assert "running: FalkorDB pid" in capsys.readouterr().out
    assert cli_main(["db", "status"]) == 0
    assert cli_main(["db", "stop"]) == 0
    assert "stopped" in capsys.readouterr().out


def test_compact_reloads_the_graph_unless_someone_else_is_connected(tmp_path):
    store = FalkorStore(home=tmp_path / "compact")
    try:
        store.write_rows("UNWIND $rows AS row CREATE (:User {user_id: row.id})",
                         [{"id": str(i)} for i in range(500)])
        pid = store.server.status().pid
        other = FalkorStore(home=tmp_path / "compact")  # a second client: a Browser, a job
        assert store.compact() is False
        assert store.server.status().pid == pid
        other.close()
        assert store.compact() is True
        assert store.server.status().pid != pid  # restarted on the snapshot
        rows = store.read("MATCH (u:User) RETURN count(u) AS n")
        assert rows == [{"n": 500}]
        store.write("MATCH (u:User {user_id: '7'}) SET u:Flagged")
        assert store.read("MATCH (u:Flagged) RETURN u.user_id AS id") == [{"id": "7"}]
    finally:
        store.close()
        store.server.stop()


def test_a_server_that_stops_answering_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAUDRING_STATEMENT_TIMEOUT", "1")
    store = FalkorStore(home=tmp_path / "stuck")
    pid = store.server.status().pid
    try:
        store.write("CREATE (:User {user_id: 'a'})")
        os.kill(pid, signal.SIGSTOP)  # a server whose threads wait forever, as seen once
        with pytest.raises(StoreError, match="did not answer within 1 s"):
            store.read("MATCH (u:User) RETURN count(u) AS n")
    finally:
        os.kill(pid, signal.SIGCONT)
        store.close()
        store.server.stop()
