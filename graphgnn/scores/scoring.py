"""A scoring pass: export the graph as of T, score it, threshold, explain and write back.

What lands on every scored node (DESIGN §3): ``anomaly_score``, ``anomaly_pct``, ``scored_at``,
``model_version``, ``score_run``, ``reasons`` and the ``:Flagged`` label above the threshold
(``flagged_since`` remembers when it was first set). Each run leaves a ``ScoringRun`` record.

Crash invariant (why the writes are ordered as they are):

1. **Per node atomic** (:mod:`graphgnn.scores.writeback`): a node always holds one complete
   tuple from one run — never the score of one run with the flag or percentile of another.
2. **Runs are marked last.** A ``ScoringRun`` is ``running`` while it writes and becomes
   ``succeeded`` only after every node of its region and its rings are written. A crash leaves
   a ``running`` record, nodes of its region carrying either the previous run's tuple or the
   crashed run's (both complete), and rings as the previous run left them or partly updated
   (ring writes are idempotent upserts).
3. **The next run repairs.** The watermark comes only from ``succeeded`` runs, so a crashed
   run's window is redone; the next run marks abandoned runs ``failed`` and adds every node
   whose ``score_run`` is a non-succeeded run (and every unscored node) to its region, then
   recomputes all rings.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from graph_build import schema
from graph_build.errors import StoreError
from graph_build.stores.base import DEFAULT_BATCH, GraphStore

from graphgnn.scores.call import open_session, score_graph  # noqa: F401 (re-exported)
from graphgnn.scores.runs import RunInfo, best_effort, finish_run, new_run_id, start_run
from graphgnn.scores.threshold import Threshold, percentiles
from graphgnn.scores.writeback import current_flagged, plan_label, write_back
from graphgnn.timeutil import now_ms

Log = Callable[[str], None]
#: Nodes a run attributes at most (:data:`graphgnn.model.explain.MAX_NODES`).
ATTRIBUTED_MAX = 500
Region = dict[str, set[str]]


@dataclass
class ScoringResult:
    """What a scoring pass did (the CLI prints it; benchmarks time it; alerts read rings)."""

    run_id: str
    mode: str
    as_of: int
    model_version: str
    nodes_in_graph: int = 0
    nodes_scored: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    newly_flagged: int = 0
    unflagged: int = 0
    rings: int = 0
    rings_new: int = 0
    rings_grown: int = 0
    rings_closed: int = 0
    threshold: str = ""
    reason: str = ""
    watermark: int | None = None
    drift: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    status: str = "succeeded"
    #: label -> key -> the score this run wrote (as stored: rounded to 6 decimals).
    written: dict[str, dict[str, float]] = field(default_factory=dict)
    #: label -> key -> the model attributions behind this run's reasons (computed or reused).
    attributions: dict[str, dict[str, dict]] = field(default_factory=dict)

    def summary(self) -> str:
        flagged = ", ".join(f"{k} {v:,}" for k, v in self.flagged.items())
        rate = self.nodes_scored / max(self.seconds.get("write", 0.0), 1e-9)
        why = f" [{self.reason}]" if self.reason else ""
        return (f"{self.run_id} ({self.mode}{why}): wrote {self.nodes_scored:,} of "
                f"{self.nodes_in_graph:,} scored nodes ({rate:,.0f} nodes/s write-back); "
                f"flagged {flagged} ({self.threshold}; +{self.newly_flagged} -"
                f"{self.unflagged}); {self.rings} open rings; "
                f"{self.seconds.get('total', 0):.1f} s")


def run_scoring(
    store: GraphStore,
    scorer,
    *,
    as_of: int | None = None,
    threshold: Threshold | None = None,
    mode: str = "full",
    watermark: int | None = None,
    region_fn: Callable[[Any], Region] | None = None,
    frames=None,
    rings: bool = True,
    ring_options=None,
    batch_size: int = DEFAULT_BATCH,
    reason: str = "",
    settings: str = "",
    guard: Callable[[], None] | None = None,
    fence: int | None = None,
    after_score: Callable[[Any, dict[str, pd.DataFrame]], dict[str, Any]] | None = None,
    reuse_attributions: Callable[[dict[str, pd.DataFrame]], dict[str, dict[str, dict]]]
    | None = None,
    run_hook: Callable[[str], None] | None = None,
    log: Log | None = None,
) -> ScoringResult:
    """One scoring pass; the caller holds the rescore lease (see :mod:`graphgnn.scores.lock`).

    Args:
        store: the graph store (read and written).
        scorer: a :class:`graphgnn.model.checkpoint.Scorer` (``score(frames, as_of)``).
        as_of: score the graph as of this epoch ms (default: the latest event in the graph).
        threshold: flagging rule (default: contamination 0.02 per label).
        mode: ``full`` (rewrite every scored node) or ``incremental`` (only ``region_fn``'s).
        watermark: the ingest position this run has seen (recorded on the run).
        region_fn: ``(frames, scores) -> {label: keys to rewrite}``; required for
            ``incremental`` (every node whose flag changes is written too).
        frames: pre-exported frames (default: export as of ``as_of``).
        rings: recompute fraud rings after the write-back.
        ring_options: :class:`graphgnn.scores.rings.RingOptions`.
        batch_size: rows per ``UNWIND`` statement.
        reason: why the run is full (recorded).
        settings: :func:`graphgnn.scores.runs.settings_key` of this run (recorded).
        guard: called before every write (the lease's fencing check); raises to stop.
        fence: the lease's fencing token (recorded).
        after_score: ``(frames, scores) -> figures`` stored on the run (model monitoring).
        reuse_attributions: ``scores -> {label: {key: attribution}}`` still valid from an
            earlier run (their nodes are not attributed again).
        run_hook: called with the run id once its record exists (the lease names the run).
        log: progress lines.
    """
    from graph_build.export import export_frames

    from graphgnn.scores import reasons as reasons_mod
    from graphgnn.scores import rings as rings_mod
    from graphgnn.scores.ingest import latest_event_time

    log = log or (lambda _m: None)
    guard = guard or (lambda: None)
    threshold = threshold or Threshold()
    t0 = time.perf_counter()
    started = now_ms()
    if as_of is None:
        as_of = latest_event_time(store) or started
    as_of = int(as_of)
    info = RunInfo(new_run_id(started), str(getattr(scorer, "model_version", "unknown")),
                   started, as_of, mode, watermark, reason, settings, fence)
    result = ScoringResult(info.run_id, mode, as_of, info.model_version,
                           threshold=threshold.describe(), reason=reason, watermark=watermark)
    guard()
    start_run(store, info)
    if run_hook:
        run_hook(info.run_id)
    try:
        t = time.perf_counter()
        if frames is None:
            log(f"exporting the graph as of {as_of}")
            frames = export_frames(store, as_of=as_of)
        result.seconds["export"] = time.perf_counter() - t

        t = time.perf_counter()
        session, scores = open_session(scorer, frames, as_of)
        result.seconds["score"] = time.perf_counter() - t
        result.nodes_in_graph = sum(len(f) for f in scores.values())
        if after_score:
            result.drift = after_score(frames, scores) or {}

        region = region_fn(frames, scores) if (mode == "incremental" and region_fn) else None
        t = time.perf_counter()
        flags = {label: threshold.flags(f["anomaly_score"].to_numpy()) for label, f in
                 scores.items()}
        flagged_keys = {label: set(scores[label][schema.node(label).key][flags[label]]
                                   .astype(str)) for label in scores}
        was = {label: current_flagged(store, label) for label in scores}
        # Only written nodes need a model attribution (the region and every flag change), and
        # only those a full run attributes: the highest-scoring flagged nodes.
        attribute_keys = flagged_keys if region is None else {
            label: keys & (region.get(label, set()) | (keys - was[label]))
            & top_flagged(scores, flagged_keys).get(label, set())
            for label, keys in flagged_keys.items()}
        # Ring candidates (users at or above the ring detector's percentile) get reasons too,
        # so every ring member says what it shares, flagged or not.
        ring_pct = (ring_options or rings_mod.RingOptions()).min_pct
        users = scores.get("User")
        explain = {} if users is None else {"User": set(users[schema.node("User").key][
            percentiles(users["anomaly_score"].to_numpy()) >= ring_pct].astype(str))}
        reused = reuse_attributions(scores) if reuse_attributions else {}
        attribute_keys = {label: keys - set(reused.get(label, {}))
                          for label, keys in attribute_keys.items()}
        attributions: dict[str, dict[str, dict]] | None = None
        attribute = session.attribute if session is not None else (
            (lambda keys: scorer.attribute(frames, keys, as_of=as_of))
            if hasattr(scorer, "attribute") else None)
        if attribute is not None and any(attribute_keys.values()):
            t_attr = time.perf_counter()
            try:
                attributions = attribute(attribute_keys)
            except Exception as e:  # an explanation must never fail a scoring run
                log(f"model attribution skipped: {type(e).__name__}: {e}")
            result.seconds["attribution"] = time.perf_counter() - t_attr
        if reused:
            attributions = attributions or {}
            for label, per in reused.items():
                attributions[label] = {**per, **attributions.get(label, {})}
        result.attributions = attributions or {}
        why = reasons_mod.build_reasons(frames, scores, flagged_keys,
                                        getattr(scorer, "feature_names", None),
                                        explain=explain, attributions=attributions)
        result.seconds["reasons"] = time.perf_counter() - t

        t = time.perf_counter()
        plans = []
        for label, frame in scores.items():
            pct = percentiles(frame["anomaly_score"].to_numpy())
            plans.append(plan_label(label, frame, flags[label], pct, was[label],
                                    why.get(label, {}),
                                    None if region is None else region.get(label, set())))
        result.newly_flagged = sum(len(p.flag) for p in plans)
        result.unflagged = sum(len(p.unflag) for p in plans)
        log(f"writing {sum(p.rows for p in plans):,} scored nodes ({mode})")
        result.nodes_scored = write_back(store, plans, info, batch_size, before_batch=guard)
        result.written = {p.label: {r["key"]: r["score"] for part in (p.keep, p.flag, p.unflag)
                                    for r in part} for p in plans}
        result.seconds["write"] = time.perf_counter() - t

        for label in scores:
            result.flagged[label] = len(current_flagged(store, label))
        if rings:
            t = time.perf_counter()
            guard()
            update = rings_mod.update_rings(store, frames, info.run_id, info.started_at,
                                            ring_options, log=log)
            result.rings, result.rings_closed = update.open, update.closed
            result.rings_new = update.new
            result.seconds["rings"] = time.perf_counter() - t
        guard()
        finish_run(store, info.run_id, "succeeded", result.nodes_scored,
                   sum(result.flagged.values()), result.rings,
                   extra=_figures(result))
    except Exception as e:
        result.status = "failed"
        error = str(e)[:500]

        def mark_failed() -> None:
            finish_run(store, info.run_id, "failed", result.nodes_scored, error=error)

        # The store itself may be what failed (hung): wait for it briefly, never another
        # statement timeout; the next run marks a run left 'running' failed anyway.
        if isinstance(e, StoreError):
            best_effort(mark_failed)
        else:
            with contextlib.suppress(Exception):
                mark_failed()
        raise
    result.seconds["total"] = time.perf_counter() - t0
    return result


def top_flagged(scores: dict[str, pd.DataFrame], flagged: dict[str, set[str]],
                n: int = ATTRIBUTED_MAX) -> dict[str, set[str]]:
    """The ``n`` highest-scoring flagged nodes over all labels (as attribution ranks them)."""
    ranked = []
    for label, keys in flagged.items():
        frame = scores[label]
        key = schema.node(label).key
        sub = frame[frame[key].astype(str).isin(keys)]
        ranked += [(-float(v), label, str(k)) for k, v in
                   zip(sub[key], sub["anomaly_score"], strict=True)]
    out: dict[str, set[str]] = {}
    for _, label, key in sorted(ranked)[:n]:
        out.setdefault(label, set()).add(key)
    return out


def _figures(result: ScoringResult) -> dict[str, Any]:
    """Scalar figures of a run for its record (the store keeps scalars and lists)."""
    out: dict[str, Any] = {"rings_new": result.rings_new, "rings_grown": result.rings_grown,
                           "rings_closed": result.rings_closed, "threshold": result.threshold}
    for name, value in result.drift.items():
        if name == "reference_json":
            out["reference"] = value  # the drift reference this run made (first run)
        elif isinstance(value, int | float | str | bool) or (
                isinstance(value, list) and all(isinstance(v, str | int | float) for v in value)):
            out[f"drift_{name}"] = value
    return out
