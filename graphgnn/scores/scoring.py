"""A scoring pass: export the graph as of T, score it, threshold, explain and write back.

What lands on every scored node (DESIGN §3): ``anomaly_score``, ``anomaly_pct``, ``scored_at``,
``model_version``, ``score_run``, ``reasons`` and the ``:Flagged`` label above the threshold
(``flagged_since`` remembers when it was first set). Each run leaves a ``ScoringRun`` record.

Crash invariant (why the writes are ordered as they are):

1. **Per node atomic.** One ``UNWIND`` statement writes *all* score properties of a node and its
   flag change together (one statement is one transaction on both stores), so a node always
   holds one complete tuple from one run — never the score of one run with the flag or
   percentile of another. Readers can always read a node's score.
2. **Runs are marked last.** A ``ScoringRun`` is ``running`` while it writes and becomes
   ``succeeded`` only after every node of its region and its rings are written. A crash leaves
   a ``running`` record, nodes of its region carrying either the previous run's tuple or the
   crashed run's (both complete, scored by a real model over the same graph), and rings as the
   previous run left them or partly updated (ring writes are idempotent upserts).
3. **The next run repairs.** The watermark (incremental start) comes only from ``succeeded``
   runs, so a crashed run's window is redone; the next run marks abandoned runs ``failed`` and
   adds every node whose ``score_run`` is a non-succeeded run (and every unscored node) to its
   region, then recomputes all rings. After it succeeds, every scored node carries the tuple of a
   succeeded run.

Writes are batched (``UNWIND`` of 10k rows). Label changes are slow on FalkorDB (~10k/s vs
~70k/s for properties), so ``:Flagged`` is set or removed only on nodes whose flag changes.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from graph_build import cypher, schema
from graph_build.errors import ConfigError, FraudringError
from graph_build.stores.base import DEFAULT_BATCH, GraphStore

DEFAULT_CONTAMINATION = 0.02
Log = Callable[[str], None]
Region = dict[str, set[str]]


class SimulatedCrash(BaseException):
    """Raised by the failure hook to stop a run like a kill would: no cleanup runs.

    A ``BaseException`` so that ``except Exception`` handlers (which mark runs failed and
    release the lock) do not see it — the store is left exactly as a killed process leaves it.
    """


def now_ms() -> int:
    return int(time.time() * 1000)


# -- thresholds and percentiles -------------------------------------------------------------
@dataclass(frozen=True)
class Threshold:
    """Which nodes of a label are flagged: a review budget, a contamination rate or a score.

    Exactly one of the three is used, in this order: ``top_k`` (flag the k highest scores per
    label), ``score`` (flag scores >= it), ``contamination`` (flag the top fraction per label).
    """

    top_k: int | None = None
    contamination: float | None = DEFAULT_CONTAMINATION
    score: float | None = None

    def __post_init__(self) -> None:
        if self.top_k is not None and self.top_k < 0:
            raise ConfigError(f"--top-k must be >= 0, got {self.top_k}")
        if self.contamination is not None and not 0 <= self.contamination < 1:
            raise ConfigError(f"--contamination must be in [0, 1), got {self.contamination}")
        if self.score is not None and not 0 <= self.score <= 1:
            raise ConfigError(f"--threshold must be in [0, 1], got {self.score}")

    def flags(self, scores: np.ndarray) -> np.ndarray:
        """Boolean mask of flagged entries of ``scores`` (ties broken by position)."""
        n = len(scores)
        if self.top_k is not None:
            k = min(self.top_k, n)
        elif self.score is not None:
            return scores >= self.score
        else:
            k = int(math.ceil((self.contamination or 0.0) * n))
        mask = np.zeros(n, dtype=bool)
        if k > 0:
            mask[np.argsort(-scores, kind="stable")[:k]] = True
        return mask

    def describe(self) -> str:
        if self.top_k is not None:
            return f"top-{self.top_k} per label"
        if self.score is not None:
            return f"score >= {self.score}"
        return f"contamination {self.contamination:g} per label"


def percentiles(scores: np.ndarray) -> np.ndarray:
    """Percentile of each score within ``scores`` (100 = highest; ties share the top rank)."""
    if len(scores) == 0:
        return np.zeros(0)
    ranks = pd.Series(scores).rank(method="max").to_numpy()
    return np.round(100.0 * ranks / len(scores), 3)


# -- run records ----------------------------------------------------------------------------
@dataclass
class RunInfo:
    """The identity of a scoring run, written to its ``ScoringRun`` record."""

    run_id: str
    model_version: str
    started_at: int
    as_of: int
    mode: str = "full"
    watermark: int | None = None


def new_run_id(started_at: int) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(started_at / 1000))
    return f"run-{stamp}-{secrets.token_hex(3)}"


def start_run(store: GraphStore, info: RunInfo) -> None:
    store.write(cypher.render("scoring/run_start"), {
        "run_id": info.run_id, "model_version": info.model_version,
        "started_at": info.started_at, "as_of": info.as_of, "mode": info.mode,
        "watermark": info.watermark})


def finish_run(store: GraphStore, run_id: str, status: str, nodes_scored: int = 0,
               flagged: int = 0, rings: int = 0, error: str | None = None) -> None:
    store.write(cypher.render("scoring/run_finish"), {
        "run_id": run_id, "status": status, "finished_at": now_ms(),
        "nodes_scored": int(nodes_scored), "flagged": int(flagged), "rings": int(rings),
        "error": error})


def last_succeeded_run(store: GraphStore) -> dict[str, Any] | None:
    rows = store.read(cypher.render("scoring/last_succeeded"))
    return rows[0] if rows else None


def unfinished_runs(store: GraphStore) -> list[dict[str, Any]]:
    """Runs not ``succeeded``, started after the last succeeded one (their nodes need repair)."""
    last = last_succeeded_run(store)
    since = last["started_at"] if last else 0
    return store.read(cypher.render("scoring/unfinished_runs"), {"since": since})


# -- write-back -----------------------------------------------------------------------------
@dataclass
class LabelPlan:
    """Rows to write for one label, split by flag change (only changes touch labels)."""

    label: str
    keep: list[dict] = field(default_factory=list)
    flag: list[dict] = field(default_factory=list)
    unflag: list[dict] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.keep) + len(self.flag) + len(self.unflag)


def current_flagged(store: GraphStore, label: str) -> set[str]:
    return {r["key"] for r in store.read(cypher.render("scoring/flagged_keys", label=label))}


def plan_label(label: str, frame: pd.DataFrame, flagged: np.ndarray, pct: np.ndarray,
               was_flagged: set[str], reasons: dict[str, list[str]],
               region: set[str] | None = None) -> LabelPlan:
    """Rows for the nodes of ``frame`` (restricted to ``region`` when given)."""
    key = schema.node(label).key
    keys = frame[key].astype(str).to_numpy()
    scores = frame["anomaly_score"].to_numpy(dtype=float)
    plan = LabelPlan(label)
    if region is not None:
        idx = np.flatnonzero(pd.Series(keys).isin(region).to_numpy())
    else:
        idx = np.arange(len(keys))
    for i in idx.tolist():
        k = keys[i]
        row = {"key": k, "score": round(float(scores[i]), 6), "pct": float(pct[i]),
               "reasons": reasons.get(k, []) if flagged[i] else []}
        if flagged[i] and k not in was_flagged:
            plan.flag.append(row)
        elif not flagged[i] and k in was_flagged:
            plan.unflag.append(row)
        else:
            plan.keep.append(row)
    return plan


def write_back(store: GraphStore, plans: list[LabelPlan], info: RunInfo,
               batch_size: int = DEFAULT_BATCH, fail_after_batches: int | None = None,
               progress: Callable[[int], None] | None = None) -> int:
    """Write every plan's rows; returns nodes written.

    ``fail_after_batches`` (tests) raises :class:`SimulatedCrash` after that many batches.
    """
    params = {"run_id": info.run_id, "model_version": info.model_version,
              "scored_at": info.started_at}
    written, batches = 0, 0
    for plan in plans:
        for part, rows in (("flag", plan.flag), ("unflag", plan.unflag), ("keep", plan.keep)):
            name = {"keep": "scoring/write_scores", "flag": "scoring/write_scores_flag",
                    "unflag": "scoring/write_scores_unflag"}[part]
            query = cypher.render(name, label=plan.label)
            for start in range(0, len(rows), batch_size):
                if fail_after_batches is not None and batches >= fail_after_batches:
                    raise SimulatedCrash(f"injected crash after {batches} batches")
                batch = rows[start:start + batch_size]
                store.write_rows(query, batch, batch_size=batch_size, params=params)
                written += len(batch)
                batches += 1
                if progress:
                    progress(len(batch))
    return written


# -- the pass -------------------------------------------------------------------------------
@dataclass
class ScoringResult:
    """What a scoring pass did (the CLI prints it; benchmarks time it)."""

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
    rings_closed: int = 0
    threshold: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    status: str = "succeeded"

    def summary(self) -> str:
        flagged = ", ".join(f"{k} {v:,}" for k, v in self.flagged.items())
        rate = self.nodes_scored / max(self.seconds.get("write", 0.0), 1e-9)
        return (f"{self.run_id} ({self.mode}): wrote {self.nodes_scored:,} of "
                f"{self.nodes_in_graph:,} scored nodes ({rate:,.0f} nodes/s write-back); "
                f"flagged {flagged} ({self.threshold}; +{self.newly_flagged} -"
                f"{self.unflagged}); {self.rings} open rings; "
                f"{self.seconds.get('total', 0):.1f} s")


def score_graph(scorer, frames, as_of: int | None) -> dict[str, pd.DataFrame]:
    """Call the scorer and check its frames (key column, finite scores in [0, 1])."""
    try:
        scores = scorer.score(frames, as_of=as_of)
    except FraudringError:
        raise
    except (KeyError, ValueError) as e:
        raise FraudringError(f"the checkpoint does not fit this graph: {e}",
                             hint="retrain on this graph (fraudring train fit)") from e
    out = {}
    for label in schema.SCORED_LABELS:
        frame = scores.get(label)
        if frame is None or len(frame) == 0:
            continue
        key = schema.node(label).key
        if key not in frame or "anomaly_score" not in frame:
            raise FraudringError(f"scorer returned no {key}/anomaly_score for {label}")
        s = pd.to_numeric(frame["anomaly_score"], errors="coerce").fillna(0.0).clip(0.0, 1.0)
        frame = frame.assign(anomaly_score=s.to_numpy(dtype=float))
        out[label] = frame.drop_duplicates(subset=[key]).reset_index(drop=True)
    return out


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
    fail_after_batches: int | None = None,
    log: Log | None = None,
) -> ScoringResult:
    """One scoring pass; the caller holds the rescore lock (see :mod:`graphgnn.scores.rescore`).

    Args:
        store: the graph store (read and written).
        scorer: a :class:`graphgnn.model.checkpoint.Scorer` (``score(frames, as_of)``).
        as_of: score the graph as of this epoch ms (default: now).
        threshold: flagging rule (default: contamination 0.02 per label).
        mode: ``full`` (rewrite every scored node) or ``incremental`` (only ``region_fn``'s).
        watermark: recorded on the run (the as_of of the last succeeded run, incremental).
        region_fn: frames -> {label: keys to rewrite}; required for ``incremental``.
        frames: pre-exported frames (default: export as of ``as_of``).
        rings: recompute fraud rings after the write-back.
        ring_options: :class:`graphgnn.scores.rings.RingOptions`.
        batch_size: rows per ``UNWIND`` statement.
        fail_after_batches: tests: crash (like a kill) after that many write batches.
        log: progress lines.
    """
    from graph_build.export import export_frames

    from graphgnn.scores import reasons as reasons_mod
    from graphgnn.scores import rings as rings_mod

    log = log or (lambda _m: None)
    threshold = threshold or Threshold()
    t0 = time.perf_counter()
    started = now_ms()
    as_of = int(as_of) if as_of is not None else started
    info = RunInfo(new_run_id(started), str(getattr(scorer, "model_version", "unknown")),
                   started, as_of, mode, watermark)
    result = ScoringResult(info.run_id, mode, as_of, info.model_version,
                           threshold=threshold.describe())
    start_run(store, info)
    try:
        t = time.perf_counter()
        if frames is None:
            log(f"exporting the graph as of {as_of}")
            frames = export_frames(store, as_of=as_of)
        result.seconds["export"] = time.perf_counter() - t

        t = time.perf_counter()
        scores = score_graph(scorer, frames, as_of)
        result.seconds["score"] = time.perf_counter() - t
        result.nodes_in_graph = sum(len(f) for f in scores.values())

        region = region_fn(frames) if (mode == "incremental" and region_fn) else None
        t = time.perf_counter()
        flags = {label: threshold.flags(f["anomaly_score"].to_numpy()) for label, f in
                 scores.items()}
        flagged_keys = {label: set(scores[label][schema.node(label).key][flags[label]]
                                   .astype(str)) for label in scores}
        why = reasons_mod.build_reasons(frames, scores, flagged_keys,
                                        getattr(scorer, "feature_names", None))
        result.seconds["reasons"] = time.perf_counter() - t

        t = time.perf_counter()
        plans = []
        for label, frame in scores.items():
            was = current_flagged(store, label)
            pct = percentiles(frame["anomaly_score"].to_numpy())
            plans.append(plan_label(label, frame, flags[label], pct, was, why.get(label, {}),
                                    None if region is None else region.get(label, set())))
        result.newly_flagged = sum(len(p.flag) for p in plans)
        result.unflagged = sum(len(p.unflag) for p in plans)
        log(f"writing {sum(p.rows for p in plans):,} scored nodes ({mode})")
        result.nodes_scored = write_back(store, plans, info, batch_size, fail_after_batches)
        result.seconds["write"] = time.perf_counter() - t

        for label in scores:
            result.flagged[label] = len(current_flagged(store, label))
        if rings:
            t = time.perf_counter()
            update = rings_mod.update_rings(store, frames, info.run_id, info.started_at,
                                            ring_options, log=log)
            result.rings, result.rings_closed = update.open, update.closed
            result.seconds["rings"] = time.perf_counter() - t
        finish_run(store, info.run_id, "succeeded", result.nodes_scored,
                   sum(result.flagged.values()), result.rings)
    except Exception as e:
        result.status = "failed"
        # The store itself may be what failed; the next run repairs either way.
        with contextlib.suppress(Exception):
            finish_run(store, info.run_id, "failed", result.nodes_scored, error=str(e)[:500])
        raise
    result.seconds["total"] = time.perf_counter() - t0
    return result
