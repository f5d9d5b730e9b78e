"""The rescore lease: kill -9 then rescore, a short TTL never overlaps, fencing, a hung store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from fake_scorer import FakeScorer

ROOT = Path(__file__).resolve().parents[3]


class SlowScorer(FakeScorer):
    """Scores like FakeScorer after sleeping (a long run); ``on_score`` runs first."""

    def __init__(self, seconds: float, on_score=None) -> None:
        super().__init__()
        self.seconds, self.on_score = seconds, on_score

    def score(self, frames, as_of=None):
        if self.on_score:
            self.on_score()
        time.sleep(self.seconds)
        return super().score(frames, as_of)


def _runs(store) -> dict[str, str]:
    return {r["id"]: r["s"] for r in store.read(
        "MATCH (r:ScoringRun) RETURN r.run_id AS id, r.status AS s")}


def test_after_kill_9_the_next_run_proceeds_at_once_and_stats_shows_it_failed(store):
    from graph_build.stats import graph_stats

    from graphgnn.scores.rescore import rescore_once

    holder = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from graph_build.stores.falkor import FalkorStore
        from graphgnn.scores.lock import StoreLock
        from graphgnn.scores.runs import RunInfo, start_run
        store = FalkorStore(home={str(store.server.home)!r})
        lock = StoreLock(store, ttl_s=600)
        lock.acquire()
        start_run(store, RunInfo("run-killed", "fake-1", 1, 1))
        lock.name_run("run-killed")
        print("ready", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert graph_stats(store)["runs"][0]["status"] == "running"  # alive: really running
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    [run] = [r for r in graph_stats(store)["runs"] if r["run_id"] == "run-killed"]
    assert run["status"] == "failed" and "dead" in run["error"]
    t = time.monotonic()
    outcome = rescore_once(store, FakeScorer(), lock_ttl_s=600)
    waited = time.monotonic() - t
    # The lease had 10 minutes left; its owner's pid is gone, so it was taken at once.
    assert not outcome.skipped and outcome.repaired_runs == 1
    assert waited < 60
    assert _runs(store)["run-killed"] == "failed"


def test_short_ttl_with_heartbeat_never_overlaps(store):
    from graph_build.stores.falkor import FalkorStore

    from graphgnn.scores.rescore import rescore_once

    outcomes: dict[str, object] = {}
    started = threading.Event()

    def long_run():
        own = FalkorStore(home=store.server.home)
        try:
            outcomes["long"] = rescore_once(own, SlowScorer(2.5, started.set), full=True,
                                            lock_ttl_s=1.0, heartbeat_s=0.2)
        finally:
            own.close()

    thread = threading.Thread(target=long_run)
    thread.start()
    assert started.wait(30)
    time.sleep(1.5)  # longer than the TTL: only the heartbeat keeps the lease
    other = rescore_once(store, FakeScorer(), full=True, lock_ttl_s=1.0)
    thread.join()
    assert other.skipped
    assert outcomes["long"].result.status == "succeeded"


def test_a_run_that_lost_its_lease_writes_nothing(store):
    from graph_build.stores.falkor import FalkorStore

    from graphgnn.scores.lock import LockLost
    from graphgnn.scores.rescore import rescore_once

    errors: list[BaseException] = []
    started = threading.Event()

    def stalled_run():  # no heartbeat (a paused process): its 1 s lease lapses mid-run
        own = FalkorStore(home=store.server.home)
        try:
            rescore_once(own, SlowScorer(3.0, started.set), full=True, lock_ttl_s=1.0,
                         heartbeat_s=3600)
        except BaseException as e:  # noqa: BLE001 - inspected below
            errors.append(e)
        finally:
            own.close()

    thread = threading.Thread(target=stalled_run)
    thread.start()
    assert started.wait(30)
    time.sleep(1.2)
    taker = rescore_once(store, FakeScorer(bump=0.01), full=True, lock_ttl_s=30)
    thread.join()
    assert not taker.skipped and taker.result.status == "succeeded"
    assert len(errors) == 1 and isinstance(errors[0], LockLost)
    statuses = _runs(store)
    stalled = [r for r, s in statuses.items() if r != taker.result.run_id]
    assert stalled and all(statuses[r] == "failed" for r in stalled)
    written = store.read("MATCH (n) WHERE n.score_run IS NOT NULL "
                         "RETURN collect(DISTINCT n.score_run) AS runs")[0]["runs"]
    assert written == [taker.result.run_id]  # the fenced-out run wrote no score


def test_a_hung_store_fails_within_about_one_statement_timeout(store, monkeypatch):
    from graph_build.errors import StoreError
    from graph_build.stores.falkor import FalkorStore

    from graphgnn.scores.rescore import rescore_once

    timeout = 2.0
    monkeypatch.setenv("FRAUDRING_STATEMENT_TIMEOUT", str(timeout))
    pid = store.server.status().pid
    hung_at: list[float] = []

    def hang():
        os.kill(pid, signal.SIGSTOP)
        hung_at.append(time.monotonic())

    own = FalkorStore(home=store.server.home)
    try:
        with pytest.raises(StoreError, match="did not answer"):
            rescore_once(own, SlowScorer(0.0, hang), full=True, lock_ttl_s=3.0)
        failed_after = time.monotonic() - hung_at[0]
    finally:
        os.kill(pid, signal.SIGCONT)
        own.close()
    assert failed_after < timeout * 1.5 + 3.0, failed_after  # not 4 timeouts
    time.sleep(3.1)  # the lease lapses by itself: the heartbeat stopped with the run
    again = rescore_once(store, FakeScorer(), lock_ttl_s=3.0)
    assert not again.skipped and again.result.status == "succeeded"
