"""Point-in-time building blocks: the graph cut at T and vectorised group operations.

:func:`cut_frames` is the one time cut every feature goes through: nodes whose time is after T
are dropped, relationships first seen after T are dropped, and of aggregated relationships
(``USED_DEVICE``, ``USED_IP``) only ``first_seen`` survives — their ``last_seen``, ``count``
and ``times`` describe the whole history and would leak the future. The helpers below are the
numpy group-bys and sorted searches the feature modules share (nothing loops per node).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build import schema
from graph_build.frames import GraphFrames
from graphgnn.model.identity_cache import IdentityCache

HOUR, DAY = 3_600_000, 86_400_000
WINDOWS: dict[str, int] = {"1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
_LEAKY_EDGE_PROPS = ("last_seen", "count", "times")


def _num(values, fill: float = np.nan) -> np.ndarray:
    # Nullable integer columns cannot hold NaN/inf fills: go through float64 first.
    num = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")
    return num.fillna(fill).to_numpy(np.float64)


def max_time(frames: GraphFrames) -> int | None:
    """The latest node or relationship time in ``frames`` (None for an empty graph)."""
    best: float = -np.inf
    for label, frame in frames.nodes.items():
        col = schema.node(label).time
        if col and col in frame and len(frame):
            best = max(best, np.nanmax(_num(frame[col], -np.inf)))
    for rel_type, frame in frames.rels.items():
        col = schema.rel(rel_type).time
        if col and col in frame and len(frame):
            best = max(best, np.nanmax(_num(frame[col], -np.inf)))
    return None if not np.isfinite(best) else int(best)


def cut_frames(frames: GraphFrames, as_of: int | None = None) -> GraphFrames:
    """The graph as it was at ``as_of`` (default: ``frames.as_of``, else its latest time).

    Keeps nodes with time <= T (timeless nodes such as products stay), relationships with time
    <= T whose endpoints both stay, and drops the whole-history columns of aggregated edges.
    """
    t_cut = as_of if as_of is not None else frames.as_of
    if t_cut is None:
        t_cut = max_time(frames) or 0
    out = GraphFrames(as_of=int(t_cut))
    keep_keys: dict[str, pd.Index] = {}
    for label in schema.NODES:
        spec = schema.node(label)
        frame = frames.nodes.get(label)
        if frame is None:
            frame = pd.DataFrame({c: pd.Series([], dtype="object")
                                  for c in (spec.key, *spec.properties)})
        if spec.time and spec.time in frame and len(frame):
            t = _num(frame[spec.time])
            frame = frame[np.isnan(t) | (t <= t_cut)]
        frame = frame.drop_duplicates(spec.key).reset_index(drop=True)
        out.nodes[label] = frame
        keep_keys[label] = pd.Index(frame[spec.key].astype(str))
    for rel_type, spec in schema.RELATIONSHIPS.items():
        frame = frames.rels.get(rel_type)
        if frame is None:
            frame = pd.DataFrame({c: pd.Series([], dtype="object")
                                  for c in ("src", "dst", *spec.properties)})
        frame = frame.drop(columns=[c for c in _LEAKY_EDGE_PROPS if c in frame and
                                    spec.aggregated])
        if len(frame):
            ok = (keep_keys[spec.source].get_indexer(frame["src"].astype(str)) >= 0) & (
                keep_keys[spec.target].get_indexer(frame["dst"].astype(str)) >= 0)
            if spec.time and spec.time in frame:
                t = _num(frame[spec.time])
                ok &= ~np.isnan(t) & (t <= t_cut)
            frame = frame[ok]
        out.rels[rel_type] = frame.reset_index(drop=True)
    return out


# -- vectorised building blocks ------------------------------------------------------------------
#: A snapshot's features ask for the same relationship's positions a dozen times, and each
#: answer hashes two key columns (a third of feature building at 30k users): once per frames.
_EDGE_POSITIONS = IdentityCache()


def _edges(g: GraphFrames, rel_type: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source row, target row, time) of every relationship, as positions into node frames.

    Computed once per (relationship frame, node frames) and returned read-only: the frames
    of a snapshot are not modified after the cut (a replaced frame is a new object: a miss).
    """
    spec = schema.rel(rel_type)
    frame = g.rels[rel_type]
    source, target = g.nodes.get(spec.source), g.nodes.get(spec.target)

    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src_idx = pd.Index(g.keys(spec.source).astype(str))
        dst_idx = pd.Index(g.keys(spec.target).astype(str))
        s = src_idx.get_indexer(frame["src"].astype(str))
        d = dst_idx.get_indexer(frame["dst"].astype(str))
        t = (_num(frame[spec.time], 0).astype(np.int64) if spec.time
             else np.zeros(len(frame), np.int64))
        for a in (s, d, t):
            a.setflags(write=False)
        return s, d, t

    if source is None or target is None:
        return build()
    return _EDGE_POSITIONS.get(rel_type, (frame, source, target), build)


def _count(group: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(group, weights=weights, minlength=n).astype(np.float64)[:n]


def _gmax(group: np.ndarray, values: np.ndarray, n: int, fill: float = 0.0) -> np.ndarray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, group, values)
    out[~np.isfinite(out)] = fill
    return out


def _gmin(group: np.ndarray, values: np.ndarray, n: int, fill: float = 0.0) -> np.ndarray:
    out = np.full(n, np.inf)
    np.minimum.at(out, group, values)
    out[~np.isfinite(out)] = fill
    return out


def _near_count(group: np.ndarray, t: np.ndarray, before: int, after: int = 0) -> np.ndarray:
    """For each event: other events of the same group with time in ``[t - before, t + after]``.

    One sort and two ``searchsorted`` over a composite (group, time) key: no loop per group.
    """
    if len(group) == 0:
        return np.zeros(0)
    t0 = t.min()
    span = int(t.max() - t0) + before + after + 2
    key = group.astype(np.int64) * span + (t - t0) + before + 1
    srt = np.sort(key)
    hi = np.searchsorted(srt, key + after, side="right")
    lo = np.searchsorted(srt, key - before, side="left")
    return (hi - lo - 1).astype(np.float64)


def _windows(prefix: str, group: np.ndarray, t: np.ndarray, n: int, t_cut: int,
             weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    return {f"{prefix}_{name}": _count(group[t > t_cut - w], n,
                                       None if weights is None else weights[t > t_cut - w])
            for name, w in WINDOWS.items()}


def _group_starts(sorted_groups: np.ndarray) -> np.ndarray:
    """True where a run of equal values starts in a sorted array (empty-safe)."""
    out = np.ones(len(sorted_groups), dtype=bool)
    out[1:] = sorted_groups[1:] != sorted_groups[:-1]
    return out


def _freq(values: pd.Series) -> np.ndarray:
    """Share of nodes with the same value (missing values count as one value)."""
    v = values.astype("string").fillna("<na>")
    return v.map(v.value_counts(normalize=True)).to_numpy(np.float64)


def _distinct_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.unique(np.stack([a, b], 1), axis=0) if len(a) else np.zeros((0, 2), np.int64)
    return pairs[:, 0], pairs[:, 1]


def _node_time(g: GraphFrames, label: str) -> np.ndarray:
    spec = schema.node(label)
    frame = g.nodes[label]
    if spec.time and spec.time in frame:
        return _num(frame[spec.time])
    return np.full(len(frame), np.nan)


def _prior_sum(group: np.ndarray, t: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each event: the sum of ``values`` over *strictly earlier* events of its group.

    Events at the same time as the event itself do not count (they are not yet known when it
    happens). One lexsort and a cumulative sum; ``group`` may be any int64 key.
    """
    n = len(group)
    if n == 0:
        return np.zeros(0)
    order = np.lexsort((t, group))
    g, tt, v = group[order], t[order], values[order].astype(np.float64)
    csum = np.cumsum(v) - v  # sum before this row in sorted order
    start = _group_starts(g)
    base = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    before = csum - csum[base]
    # Ties in time: every tied row gets the sum before the first of them.
    key_start = np.ones(n, dtype=bool)
    key_start[1:] = (g[1:] != g[:-1]) | (tt[1:] != tt[:-1])
    first_tie = np.maximum.accumulate(np.where(key_start, np.arange(n), 0))
    before = before[first_tie]
    out = np.empty(n)
    out[order] = before
    return out
