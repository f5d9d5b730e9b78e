"""The embedded FalkorDB server: one per data folder, password-protected, persistent."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

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
