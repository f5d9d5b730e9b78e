"""The rescore lease: one job at a time, a heartbeat while it lives, fencing when it lost.

``(:RescoreLock {name, owner, host, pid, expires_at, heartbeat_at, fence, run_id})``:

- **acquire** is one statement: MERGE the node, SET a property first (on Neo4j that takes the
  node's write lock, so the check reads the committed owner and two transactions cannot both
  pass it; FalkorDB runs statements one at a time), then take it only if it is free, lapsed,
  already ours — or held by a **dead owner**: same host, pid gone (a ``kill -9``), which the
  caller checks and names, so the next run proceeds at once instead of waiting out the lease;
- a **heartbeat** thread renews the lease every ``heartbeat_s`` while the run lives, so the
  lease can be short (a killed job on another host blocks for one ``ttl_s`` at most);
- every new holder gets the next **fencing token**; :meth:`StoreLock.check` runs before each
  write and raises :class:`LockLost` once the lease lapsed on this side's clock or the store
  shows another owner or token — a run that lost its lease writes nothing more.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time

from graph_build import cypher
from graph_build.errors import FraudringError

from graphgnn.timeutil import fmt_ms, now_ms
from graph_build.stores.server_lock import pid_alive

LOCK_NAME = "rescore"
DEFAULT_LOCK_TTL_S = 60.0
#: Exit code of a run skipped because another one holds the lease (EX_TEMPFAIL).
EXIT_BUSY = 75


class LockBusy(FraudringError):
    """Another job holds the rescore lease."""

    exit_code = EXIT_BUSY


class LockLost(FraudringError):
    """This job's lease lapsed or was taken over: it must not write any more."""


class StoreLock:
    """A lease in the store with heartbeat and fencing (see the module docstring).

    Args:
        store: the graph store.
        name: lease name (one per graph).
        ttl_s: how long the lease lasts without a heartbeat.
        owner: owner token (default ``host:pid:random``).
        heartbeat_s: renewal period of :meth:`start_heartbeat` (default ``ttl_s / 3``).
    """

    def __init__(self, store, name: str = LOCK_NAME, ttl_s: float = DEFAULT_LOCK_TTL_S,
                 owner: str | None = None, heartbeat_s: float | None = None) -> None:
        self.store, self.name, self.ttl_ms = store, name, int(ttl_s * 1000)
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.owner = owner or f"{self.host}:{self.pid}:{secrets.token_hex(4)}"
        self.heartbeat_s = heartbeat_s if heartbeat_s is not None else max(ttl_s / 3, 0.05)
        self.held = False
        self.fence: int | None = None
        self.run_id: str | None = None
        self.deadline_ms = 0  # when the lease lapses on this side's clock
        self.lost: str | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # -- reading ------------------------------------------------------------------------
    def holder(self) -> dict:
        """The lease node's fields ({} when nobody ever took it)."""
        rows = self.store.read(cypher.render("rescore/lock_read"), {"name": self.name})
        return rows[0] if rows else {}

    def describe_holder(self, info: dict | None = None) -> str:
        info = self.holder() if info is None else info
        return (f"{info.get('owner')}, run {info.get('run_id') or '?'}, lease until "
                f"{fmt_ms(info.get('expires_at'))}")

    def _dead_owner(self) -> str | None:
        """The holder's owner token when it is a process of this host that no longer exists."""
        info = self.holder()
        owner, host, pid = info.get("owner"), info.get("host"), info.get("pid")
        if owner and host == self.host and isinstance(pid, int) and pid != self.pid \
                and not pid_alive(pid):
            return owner
        return None

    # -- taking, renewing, releasing ----------------------------------------------------------
    def try_acquire(self) -> bool:
        """Take (or renew) the lease; True when this owner holds it afterwards."""
        now = now_ms()
        self.store.write(cypher.render("rescore/lock_acquire"), {
            "name": self.name, "owner": self.owner, "dead_owner": self._dead_owner(),
            "host": self.host, "pid": self.pid, "now": now, "expires_at": now + self.ttl_ms})
        info = self.holder()
        self.held = info.get("owner") == self.owner
        if self.held:
            self.fence = info.get("fence")
            self.deadline_ms = now + self.ttl_ms
            self.lost = None
        return self.held

    def renew(self) -> None:
        """Extend the lease; raises :class:`LockLost` if it was lost (lapsed and taken)."""
        if not self.held or self.fence is None:
            raise LockLost("lost the rescore lease (this job does not hold it)")
        now = now_ms()
        self.store.write(cypher.render("rescore/lock_renew"), {
            "name": self.name, "owner": self.owner, "fence": self.fence, "now": now,
            "expires_at": now + self.ttl_ms, "run_id": self.run_id})
        info = self.holder()
        if info.get("owner") != self.owner or info.get("fence") != self.fence:
            self.lost = "another job took the lease over"
            raise LockLost("lost the rescore lease (it lapsed and another job took it)",
                           hint="the heartbeat could not renew it in time; see the logs")
        self.deadline_ms = now + self.ttl_ms

    def name_run(self, run_id: str) -> None:
        """Record which run holds the lease (``stats`` shows runs without a live lease failed)."""
        self.run_id = run_id
        self.renew()

    def check(self) -> None:
        """The fencing check before a write: raises :class:`LockLost` unless still the holder."""
        if self.lost:
            raise LockLost(f"lost the rescore lease ({self.lost}); not writing")
        if now_ms() >= self.deadline_ms:
            self.lost = "the lease lapsed before it could be renewed"
            raise LockLost(f"lost the rescore lease ({self.lost}); not writing",
                           hint="the store answered too slowly for the heartbeat")
        info = self.holder()
        if info.get("owner") != self.owner or info.get("fence") != self.fence:
            self.lost = f"now held by {info.get('owner')} (token {info.get('fence')})"
            raise LockLost(f"lost the rescore lease ({self.lost}); not writing")

    def release(self) -> None:
        """Stop the heartbeat and free the lease (only if this owner holds it)."""
        self.stop_heartbeat()
        if self.held:
            self.held = False
            self.store.write(cypher.render("rescore/lock_release"),
                             {"name": self.name, "owner": self.owner})

    # -- heartbeat ----------------------------------------------------------------------
    def start_heartbeat(self) -> None:
        """Renew the lease every ``heartbeat_s`` in a daemon thread until released."""
        if self._beat is not None:
            return
        self._stop.clear()

        def beat() -> None:
            while not self._stop.wait(self.heartbeat_s):
                try:
                    self.renew()
                except LockLost:
                    return
                except Exception:  # noqa: BLE001 - a slow store: try again; check() decides
                    continue

        self._beat = threading.Thread(target=beat, name="rescore-heartbeat", daemon=True)
        self._beat.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._beat is not None and self._beat is not threading.current_thread():
            self._beat.join(timeout=1.0)
        self._beat = None

    # -- context manager ----------------------------------------------------------------
    def acquire(self, wait: bool = False, poll_s: float = 0.5) -> None:
        """Take the lease (polling while busy when ``wait``) and start the heartbeat."""
        while not self.try_acquire():
            if not wait:
                raise LockBusy(f"another rescore holds the lease ({self.describe_holder()})",
                               hint="it frees itself when that job ends or dies")
            time.sleep(poll_s)
        self.start_heartbeat()

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # A BaseException that is not an Exception (a kill simulated in tests) leaves the lease
        # held, as a real kill would; everything else releases it.
        if exc_type is None or issubclass(exc_type, Exception):
            self.release()
        else:
            self.stop_heartbeat()
