"""Notice an embedded server that stopped answering while a statement waits on it.

Why: FalkorDB 4.16 can deadlock (FalkorDB/FalkorDB#2129: the redis main thread parks on a lock
a query thread holds; no connection is ever served again). Seen here twice under heavy load,
once on a fresh server's very first ``CREATE INDEX`` in CI: the statement then waited out the
whole statement timeout (600 s) and stopping the server took another 300 s. A *slow* statement
is different: it runs on one of FalkorDB's query threads while the main thread still answers
PING at once. So while a statement waits, the watch pings the server on a connection of its
own; when no ping is answered for ``FRAUDRING_HANG_AFTER`` seconds (default 60), the server is
hung, and the watch kills it. The waiting statement then fails at once (the store says why and
restarts the server) instead of after the statement timeout. Killing loses nothing that was
acknowledged: the server fsyncs every write to its append-only file before answering.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from graph_build.stores.falkor_wire import env_seconds

#: Seconds without an answered PING, while a statement waits, before the server is called hung.
HANG_AFTER_S = 60.0
#: The watch's thread ends after this long without statements (and starts again on the next).
IDLE_EXIT_S = 30.0


def hang_after() -> float:
    """``FRAUDRING_HANG_AFTER`` in seconds (default 60; 0 turns the watch off)."""
    return env_seconds("FRAUDRING_HANG_AFTER", HANG_AFTER_S, zero="turns the hang watch off")


class HangWatch:
    """Pings a server while statements wait on it; kills it when it stays silent too long.

    Args:
        answers: ``answers(timeout)`` is True when the server answered a PING within timeout.
        kill: stops the hung server (called from the watch's thread).
        after_s: seconds of silence that make the server hung; 0 turns the watch off.
    """

    def __init__(self, answers: Callable[[float], bool], kill: Callable[[], None],
                 after_s: float) -> None:
        self.answers = answers
        self.kill = kill
        self.after_s = after_s
        #: How many times this watch killed its server (the store compares before and after).
        self.kills = 0
        self._waiting = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def __enter__(self) -> HangWatch:
        if self.after_s > 0:
            with self._cond:
                self._waiting += 1
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="falkordb-hang-watch",
                                                    daemon=True)
                    self._thread.start()
                elif self._waiting == 1:
                    self._cond.notify()
        return self

    def __exit__(self, *exc) -> None:
        if self.after_s > 0:
            with self._cond:
                self._waiting -= 1

    def close(self) -> None:
        """Stop the watch's thread (a closed store needs no watch)."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _busy(self) -> bool:
        """Wait until a statement waits (True), or until closed or idle too long (False)."""
        with self._cond:
            idle_since = time.monotonic()
            while not self._closed and self._waiting == 0:
                if time.monotonic() - idle_since > IDLE_EXIT_S:
                    break
                self._cond.wait(IDLE_EXIT_S)
            if self._closed or self._waiting == 0:
                self._thread = None  # the next statement starts a fresh thread
                return False
            return True

    def _run(self) -> None:
        # A ping every quarter of the limit, each allowed that long to answer: the server is
        # hung after `after_s` of unbroken silence, however slow the statement it runs.
        interval = self.after_s / 4
        silent_since: float | None = None
        while self._busy():
            time.sleep(interval)
            with self._cond:
                if self._waiting == 0:
                    silent_since = None
                    continue
            started = time.monotonic()
            if self.answers(interval):
                silent_since = None
                continue
            silent_since = started if silent_since is None else silent_since
            if time.monotonic() - silent_since >= self.after_s:
                self.kills += 1
                self.kill()
                silent_since = None
