"""Rescore the graph under the lease: one incremental (or full) pass, repaired after crashes.

Each run: take the lease (:mod:`graphgnn.scores.lock`: heartbeat, dead-owner detection,
fencing); mark runs that died while running as failed; decide the mode — **full** when asked,
when there is no succeeded run yet, or when what gives scores their meaning changed since the
last succeeded run (model version, threshold rule, feature statistics: the run record says
which), else **incremental**; read the ingest position (the watermark,
:mod:`graphgnn.scores.ingest`); export (cached frames + what changed since the last run's
position, :mod:`graphgnn.scores.cache`; an incremental run takes the as-of — the latest event
— from those two, :func:`graphgnn.scores.cache.export_latest`, instead of scanning the store);
score the whole graph; rewrite the region — every node
whose stored score would change, what was ingested, what a crashed run left behind — so an
increment leaves every node as a full run would (:mod:`graphgnn.scores.region` says why the
region is measured, not predicted); recompute rings; mark the run succeeded; raise alerts. See
:mod:`graphgnn.scores.scoring` for the crash invariant.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph_build import schema
from graph_build.errors import StoreError

from graphgnn.scores import cache as frames_cache
from graphgnn.scores import runs
from graphgnn.scores.ingest import ingest_position, latest_event_time
from graphgnn.scores.lock import DEFAULT_LOCK_TTL_S, StoreLock
from graphgnn.scores.region import (DEFAULT_HUB_CUTOFF, changed, needs_repair, seeds,
                                    stored_scores, union)
from graphgnn.scores.threshold import Threshold
from graphgnn.timeutil import DAY_MS, fmt_duration, fmt_ms, now_ms

#: as-of further than this from the wall clock earns a warning (features are as of then).
AS_OF_WARN_MS = 7 * DAY_MS
#: A node whose score moved less than this keeps its model attribution (an explanation, not a
#: score: its reasons are rewritten, from the attribution of the run that computed it).
ATTRIBUTION_TOL = 1e-3


@dataclass
class RescoreOptions:
    """How a rescore runs (the command line fills these)."""

    full: bool = False
    threshold: Threshold | None = None
    as_of: int | None = None
    lock_ttl_s: float = DEFAULT_LOCK_TTL_S
    heartbeat_s: float | None = None
    wait: bool = False
    ring_options: Any = None
    hub_cutoff: int | None = DEFAULT_HUB_CUTOFF  # unused: the region is measured (region.py)
    alerts: Any = None  # graphgnn.scores.alerts.AlertConfig
    drift_level: float = 0.25
    monitor: bool = True


@dataclass
class RescoreOutcome:
    """Result of :func:`rescore_once`: ``skipped`` when the lease was busy."""

    skipped: bool
    result: Any = None
    repaired_runs: int = 0
    region_size: int = 0
    message: str = ""
    alerts: list[dict] = field(default_factory=list)
    drift: dict[str, Any] = field(default_factory=dict)


def feature_fingerprint(scorer) -> str | None:
    """A short hash of the scorer's feature statistics (normaliser, feature list)."""
    meta = getattr(scorer, "meta", None)
    stats = (meta or {}).get("normaliser") if isinstance(meta, dict) else None
    stats = stats if stats is not None else getattr(scorer, "feature_stats", None)
    names = getattr(scorer, "feature_names", None)
    if stats is None and names is None:
        return None
    text = json.dumps({"stats": stats, "names": names}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def resolve_as_of(store, as_of: int | None, log, latest: bool = False) -> int:
    """``as_of`` or the latest event in the graph (printed); warn when far from the clock.

    ``latest``: ``as_of`` is the latest event already (read from the cache and the delta).
    """
    now = now_ms()
    if as_of is None or latest:
        if as_of is None:
            found = latest_event_time(store)
            as_of = found if found is not None else now
        log(f"as of {fmt_ms(as_of)} (the latest event in the graph; --as-of to choose)")
    else:
        log(f"as of {fmt_ms(as_of)} (--as-of)")
    if abs(now - as_of) > AS_OF_WARN_MS:
        side = "before" if as_of < now else "after"
        log(f"warning: as-of is {fmt_duration((now - as_of) / 1000)} {side} the wall clock; "
            "ages and windows are computed as of then")
    return int(as_of)


def score_all(store, scorer, *, threshold: Threshold | None = None, as_of: int | None = None,
              rings: bool = True, reason: str = "fraudring score", log=None):
    """A full scoring pass under the lease, recorded like a full rescore (its settings and
    ingest position), so the next ``rescore --once`` can be incremental.

    What ``fraudring score`` and ``fraudring demo`` run; returns the ``ScoringResult``.
    """
    from graphgnn.scores.scoring import run_scoring

    log = log or (lambda _m: None)
    threshold = threshold or Threshold()
    with StoreLock(store) as lock:
        as_of = resolve_as_of(store, as_of, log)
        settings = runs.settings_key(str(getattr(scorer, "model_version", "unknown")),
                                     threshold.describe(), feature_fingerprint(scorer))
        result = run_scoring(store, scorer, as_of=as_of, threshold=threshold, rings=rings,
                             guard=lock.check, fence=lock.fence,
                             watermark=ingest_position(store), settings=settings,
                             reason=reason, run_hook=lock.name_run, log=log)
        frames_cache.save_scores(store, result.run_id, None, result.written)
        frames_cache.save_attributions(store, result.run_id, result.attributions)
        return result


def rescore_once(store, scorer, options: RescoreOptions | None = None, log=None, **kw
                 ) -> RescoreOutcome:
    """Take the lease and run one (incremental or full) scoring pass.

    Args:
        store: the graph store.
        scorer: the loaded checkpoint (:func:`graphgnn.model.checkpoint.load_scorer`).
        options: :class:`RescoreOptions` (keyword arguments override its fields).
        log: progress lines.
    """
    from graphgnn.scores import scoring
    from graphgnn.scores.monitor import Monitor

    options = options or RescoreOptions()
    for name, value in kw.items():
        if not hasattr(options, name):
            raise TypeError(f"rescore_once() got an unexpected option {name!r}")
        setattr(options, name, value)
    log = log or (lambda _m: None)
    threshold = options.threshold or Threshold()
    lock = StoreLock(store, ttl_s=options.lock_ttl_s, heartbeat_s=options.heartbeat_s)
    while not lock.try_acquire():
        if not options.wait:
            msg = (f"another rescore holds the lease ({lock.describe_holder()}); "
                   "skipping this run")
            log(msg)
            return RescoreOutcome(skipped=True, message=msg)
        time.sleep(0.5)
    lock.start_heartbeat()
    outcome = RescoreOutcome(skipped=False)
    try:
        last = runs.last_succeeded_run(store)
        dead = runs.unfinished_runs(store)
        if dead:
            ids = [r["run_id"] for r in dead]
            lock.check()
            runs.mark_abandoned(store, ids)
            outcome.repaired_runs = len(ids)
            log(f"repairing after {len(ids)} unfinished run(s): {', '.join(ids)}")
        model_version = str(getattr(scorer, "model_version", "unknown"))
        settings = runs.settings_key(model_version, threshold.describe(),
                                     feature_fingerprint(scorer))
        reason = runs.full_reason(last, settings, options.full)
        if not reason and (last or {}).get("watermark") is None:
            reason = "the last run recorded no ingest position"
        incremental = not reason
        position = ingest_position(store)
        since = int(last["watermark"]) if incremental else None
        last_as_of = int(last["as_of"]) if incremental and last.get("as_of") is not None \
            else None
        export = None
        if incremental and options.as_of is None and last_as_of is not None:
            # The latest event from the cache and the delta: no scan of the whole store.
            export = frames_cache.export_latest(store, since, last_as_of, log)
        if export is not None:
            as_of = resolve_as_of(store, export.frames.as_of, log, latest=True)
        else:
            as_of = resolve_as_of(store, options.as_of, log)
            export = frames_cache.export_changes(store, since, last_as_of, as_of, log)
        frames, delta = export.frames, export.delta
        region_fn = reuse_fn = None
        stored = None
        if incremental:
            repair = needs_repair(store, [r["run_id"] for r in dead])
            stored = frames_cache.load_scores(store, last.get("run_id"))
            if stored is None:
                log("reading the stored scores (no score cache of the last run)")
                stored = stored_scores(store)

            cached = frames_cache.load_attributions(store, last.get("run_id"))

            def reuse_fn(scores):
                out = {}
                for label, per in cached.items():
                    frame, old = scores.get(label), stored.get(label)
                    if frame is None or old is None or not per:
                        continue
                    key = schema.node(label).key
                    sub = frame[frame[key].astype(str).isin(per)]
                    keys = sub[key].astype(str).to_numpy()
                    before = old[~old.index.duplicated(keep="last")].reindex(keys).to_numpy()
                    near = np.abs(sub["anomaly_score"].to_numpy(float) - before) < \
                        ATTRIBUTION_TOL
                    out[label] = {k: per[k] for k in keys[near]}
                return out

            def region_fn(_frames, scores):
                moved = changed(scores, stored)
                region = union(seeds(delta), repair, moved)
                outcome.region_size = sum(len(region.get(lb, ())) for lb in
                                          schema.SCORED_LABELS)
                log(f"incremental: {outcome.region_size:,} scored nodes to rewrite "
                    f"({sum(map(len, moved.values())):,} whose score moved; the rest "
                    f"ingested after position {since} or left by a crashed run)")
                return region
        else:
            log(f"full rescore: {reason}")
        monitor = Monitor(store, scorer, options.drift_level) if options.monitor else None
        lock.check()
        outcome.result = scoring.run_scoring(
            store, scorer, as_of=as_of, threshold=threshold,
            mode="incremental" if incremental else "full", watermark=position,
            region_fn=region_fn, reuse_attributions=reuse_fn,
            ring_options=options.ring_options, frames=frames,
            reason=reason, settings=settings, guard=lock.check, fence=lock.fence,
            after_score=monitor, run_hook=lock.name_run,
            log=log)
        frames_cache.save(store, frames, position, export.unchanged_files())
        frames_cache.save_scores(store, outcome.result.run_id, stored, outcome.result.written)
        frames_cache.save_attributions(store, outcome.result.run_id,
                                       outcome.result.attributions)
        if monitor and monitor.drift is not None:
            outcome.drift = monitor.drift.figures(options.drift_level)
            moved = outcome.drift["moved"]
            if moved:
                log(f"drift: {len(moved)} feature(s) moved (PSI >= {options.drift_level}): "
                    + ", ".join(moved[:10]))
        if options.alerts is not None:
            from graphgnn.scores.alerts import raise_alerts

            outcome.alerts = raise_alerts(store, options.alerts, outcome.result.run_id,
                                          outcome.drift, options.drift_level, log)
    except BaseException as e:
        if isinstance(e, StoreError):
            # The store may hang: do not wait another statement timeout to free the lease
            # (it lapses by itself within one TTL once the heartbeat stops).
            lock.stop_heartbeat()
            runs.best_effort(lock.release)
        elif isinstance(e, Exception):
            lock.release()
        else:
            lock.stop_heartbeat()  # a kill: leave the lease as a killed process would
        raise
    lock.release()
    return outcome
