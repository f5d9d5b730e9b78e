"""Fault injection for tests: a GraphStore proxy that dies like a killed process after N writes."""

from __future__ import annotations


class SimulatedCrash(BaseException):
    """Stops a run like a kill would: no cleanup runs.

    A ``BaseException`` so that ``except Exception`` handlers (which mark runs failed and
    release the lease) do not see it — the store is left exactly as a killed process leaves it.
    """


class CrashingStore:
    """Forwards everything to ``store``; the ``crash_after``-th batched write (``write_rows``)
    and every one after it raise :class:`SimulatedCrash` instead of reaching the store."""

    def __init__(self, store, crash_after: int) -> None:
        self._store = store
        self.crash_after = crash_after
        self.writes = 0

    def write_rows(self, *args, **kwargs):
        if self.writes >= self.crash_after:
            raise SimulatedCrash(f"injected crash after {self.writes} batched writes")
        self.writes += 1
        return self._store.write_rows(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._store, name)
