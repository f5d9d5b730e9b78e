"""The hang watch: a server that stops answering mid-statement is stopped, restarted, and a read
retried; a write fails clearly; a slow but answering server is left alone."""

import os
import signal
import threading
import time

import pytest

from graph_build.errors import StoreError
from graph_build.stores.falkor import FalkorStore
from graph_build.stores.hang_watch import HangWatch, hang_after
from graph_build.stores.server_lock import pid_alive


@pytest.fixture()
def watched(tmp_path, monkeypatch):
    """An embedded store whose hang watch acts after 2 s (the statement limit stays long)."""
    monkeypatch.setenv("FRAUDRING_HANG_AFTER", "2")
    monkeypatch.setenv("FRAUDRING_STATEMENT_TIMEOUT", "120")
    store = FalkorStore(home=tmp_path / "store")
    store.write("UNWIND range(1, 50) AS i CREATE (:User {user_id: toString(i)})")
    yield store
    store.close()
    store.server.stop()


def _count(store) -> int:
    return store.read("MATCH (u:User) RETURN count(u) AS n")[0]["n"]


def test_a_read_on_a_hung_server_is_retried_on_a_restarted_one(watched):
    pid = watched.server.status().pid
    # Frozen, it answers nothing (as in FalkorDB's deadlock) while the statement waits on it.
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    assert _count(watched) == 50  # answered by the restarted server, nothing lost
    waited = time.monotonic() - started
    assert watched.server.status().pid != pid and not pid_alive(pid)
    assert waited < 120  # not the statement timeout
    assert watched._watch.kills == 1


def test_a_write_on_a_hung_server_fails_clearly_and_keeps_what_was_acknowledged(watched):
    pid = watched.server.status().pid
    os.kill(pid, signal.SIGSTOP)
    with pytest.raises(StoreError, match="hung during a write") as caught:
        watched.write("CREATE (:User {user_id: 'late'})")
    assert "run the command again" in caught.value.hint
    assert _count(watched) in (50, 51)  # the unacknowledged write may or may not have applied
    watched.write("MERGE (:User {user_id: 'after'})")  # the restarted server takes writes
    assert watched.read("MATCH (u:User {user_id: 'after'}) RETURN count(u) AS n") == [{"n": 1}]


def test_a_slow_statement_on_an_answering_server_is_not_killed(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAUDRING_HANG_AFTER", "0.4")  # pings every 0.1 s
    store = FalkorStore(home=tmp_path / "slow")
    try:
        store.write("CREATE (:User {user_id: 'a'})")
        pid = store.server.status().pid
        started = time.monotonic()
        rows = store.read("UNWIND range(1, 10000000) AS x RETURN sum(x % 7) AS s")
        assert rows == [{"s": sum(x % 7 for x in range(1, 10000001))}]
        assert time.monotonic() - started > 0.4  # long enough to have been watched
        assert store._watch.kills == 0 and store.server.status().pid == pid
    finally:
        store.close()
        store.server.stop()


def test_the_watch_pings_only_while_a_statement_waits():
    pings: list[float] = []
    watch = HangWatch(lambda timeout: pings.append(timeout) or True, lambda: None, after_s=0.2)
    with watch:
        time.sleep(0.3)
    during = len(pings)
    time.sleep(0.3)
    watch.close()
    assert during >= 2 and len(pings) <= during + 1 and watch.kills == 0


def test_the_watch_kills_after_the_limit_of_silence():
    killed = threading.Event()
    watch = HangWatch(lambda timeout: time.sleep(timeout) or False, killed.set, after_s=0.2)
    with watch:
        assert killed.wait(5)
    watch.close()
    assert watch.kills == 1


@pytest.mark.parametrize("value", ["-1", "soon", "inf"])
def test_a_bad_hang_limit_is_refused(monkeypatch, value):
    monkeypatch.setenv("FRAUDRING_HANG_AFTER", value)
    with pytest.raises(StoreError, match="FRAUDRING_HANG_AFTER"):
        hang_after()


def test_a_zero_hang_limit_turns_the_watch_off(monkeypatch):
    monkeypatch.setenv("FRAUDRING_HANG_AFTER", "0")
    assert hang_after() == 0.0
    watch = HangWatch(lambda t: False, lambda: None, after_s=0.0)
    with watch:
        pass
    assert watch._thread is None
