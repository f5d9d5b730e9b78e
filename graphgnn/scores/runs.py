"""``ScoringRun`` records: the audit trail of every scoring pass and the rescoring watermark.

A run is ``running`` while it writes and ``succeeded`` only once everything is written (see
:mod:`graphgnn.scores.scoring` for the crash invariant). Its ``watermark`` is an **ingest
position** (the build sequence it had seen, :mod:`graphgnn.scores.ingest`), never an event
time, so late and backfilled rows are rescored. ``settings`` records what gives scores their
meaning (model version, threshold rule, feature statistics): when it changes, the next run is
full, and ``reason`` says why.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graph_build import cypher
from graph_build.stores.base import GraphStore

from graphgnn.timeutil import now_ms, stamp_ms


@dataclass
class RunInfo:
    """The identity of a scoring run, written to its ``ScoringRun`` record."""

    run_id: str
    model_version: str
    started_at: int
    as_of: int
    mode: str = "full"
    watermark: int | None = None
    reason: str = ""
    settings: str = ""
    fence: int | None = None


def new_run_id(started_at: int) -> str:
    """A run id that sorts by start time and never collides (``run-<UTC stamp>-<hex>``)."""
    return f"run-{stamp_ms(started_at)}-{secrets.token_hex(3)}"


def start_run(store: GraphStore, info: RunInfo) -> None:
    """Open the run's record (status ``running``)."""
    store.write(cypher.render("scoring/run_start"), {
        "run_id": info.run_id, "model_version": info.model_version,
        "started_at": info.started_at, "as_of": info.as_of, "mode": info.mode,
        "watermark": info.watermark, "reason": info.reason, "settings": info.settings,
        "fence": info.fence})


def finish_run(store: GraphStore, run_id: str, status: str, nodes_scored: int = 0,
               flagged: int = 0, rings: int = 0, error: str | None = None,
               extra: dict[str, Any] | None = None) -> None:
    """Close the run's record; ``extra`` holds scalar figures (drift, ring counts, …)."""
    store.write(cypher.render("scoring/run_finish"), {
        "run_id": run_id, "status": status, "finished_at": now_ms(),
        "nodes_scored": int(nodes_scored), "flagged": int(flagged), "rings": int(rings),
        "error": error, "extra": {k: v for k, v in (extra or {}).items() if v is not None}})


def last_succeeded_run(store: GraphStore) -> dict[str, Any] | None:
    """The newest succeeded run (its watermark and settings decide the next run's mode)."""
    rows = store.read(cypher.render("scoring/last_succeeded"))
    return rows[0] if rows else None


def unfinished_runs(store: GraphStore) -> list[dict[str, Any]]:
    """Runs not ``succeeded``, started after the last succeeded one (their nodes need repair)."""
    last = last_succeeded_run(store)
    since = last["started_at"] if last else 0
    return store.read(cypher.render("scoring/unfinished_runs"), {"since": since})


def mark_abandoned(store: GraphStore, run_ids: list[str]) -> None:
    """Runs that died while running become ``failed`` (the caller holds the lease)."""
    if run_ids:
        store.write(cypher.render("scoring/mark_abandoned"),
                    {"run_ids": run_ids, "finished_at": now_ms()})


def settings_key(model_version: str, threshold: str, feature_stats: Any = None) -> str:
    """What gives scores their meaning, as one comparable text (stored on the run)."""
    return json.dumps({"model": model_version, "threshold": threshold,
                       "features": feature_stats}, sort_keys=True, default=str)


def full_reason(last: dict[str, Any] | None, settings: str, forced: bool) -> str:
    """Why this run must rescore everything ("" when an increment is enough)."""
    if forced:
        return "requested (--full)"
    if last is None:
        return "no succeeded run yet"
    before = last.get("settings")
    if not before:
        return "the last run recorded no settings"
    if before == settings:
        return ""
    old, new = json.loads(before), json.loads(settings)
    changed = [what for what, name in (("model", "model version"), ("threshold", "threshold"),
                                       ("features", "feature statistics"))
               if old.get(what) != new.get(what)]
    parts = []
    for what in changed:
        label = {"model": "model version", "threshold": "threshold",
                 "features": "feature statistics"}[what]
        if what == "features":
            parts.append("new feature statistics")
        else:
            parts.append(f"new {label} ({old.get(what)} -> {new.get(what)})")
    return "; ".join(parts) or "settings changed"


def best_effort(fn: Callable[[], None], timeout_s: float = 0.5) -> None:
    """Run ``fn`` in a daemon thread and wait at most ``timeout_s`` (errors are ignored).

    For bookkeeping after a store failure: a hung store must not hold the job for another
    statement timeout.
    """
    def quietly() -> None:
        with contextlib.suppress(Exception):  # best effort by definition
            fn()

    thread = threading.Thread(target=quietly, daemon=True)
    thread.start()
    thread.join(timeout_s)
