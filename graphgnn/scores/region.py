"""The region an incremental rescore rewrites: the receptive field of what was ingested.

Seeds are the nodes an ingest after the watermark created or changed and both ends of every
relationship it created or changed (late and backfilled rows included: change is tracked by
ingestion, :mod:`graphgnn.scores.ingest`), plus nodes whose time crossed into the new as-of
window. A k-layer model reads features one hop out, so a change can move scores up to
``depth + 1`` hops away: the region is the seeds expanded that far.

Hub-aware: a node with more than ``hub_cutoff`` neighbours (an office or carrier IP, a popular
product) joins the region but does not spread it — one more user on a shared IP barely moves
what the model sees of its other thousand users, and expanding through it would pull in most of
the graph. ``hub_cutoff=None`` expands exactly (the equality test runs that way).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build import cypher, schema

DEFAULT_HOPS = 2
DEFAULT_HUB_CUTOFF = 200

Region = dict[str, set[str]]


def seeds(delta) -> Region:
    """Nodes of ``delta`` (an export of what changed) and both ends of its relationships."""
    region: Region = {label: set() for label in schema.NODES}
    for label, frame in delta.nodes.items():
        if len(frame):
            region[label] |= set(frame[schema.node(label).key].astype(str))
    for rel_type, frame in delta.rels.items():
        if len(frame):
            spec = schema.rel(rel_type)
            region[spec.source] |= set(frame["src"].astype(str))
            region[spec.target] |= set(frame["dst"].astype(str))
    return region


def degrees(frames) -> dict[str, pd.Series]:
    """Neighbour count of every node, per label (over all relationship types)."""
    parts: dict[str, list[pd.Series]] = {}
    for rel_type, frame in frames.rels.items():
        if not len(frame):
            continue
        spec = schema.rel(rel_type)
        parts.setdefault(spec.source, []).append(frame["src"].astype(str).value_counts())
        parts.setdefault(spec.target, []).append(frame["dst"].astype(str).value_counts())
    return {label: pd.concat(p).groupby(level=0).sum() for label, p in parts.items()}


def expand(frames, region: Region, hops: int, hub_cutoff: int | None = DEFAULT_HUB_CUTOFF
           ) -> Region:
    """``region`` plus every node within ``hops`` relationships (hubs do not spread it)."""
    region = {label: set(keys) for label, keys in region.items()}
    hubs: dict[str, set[str]] = {}
    if hub_cutoff is not None:
        hubs = {label: set(d.index[d.to_numpy() > hub_cutoff])
                for label, d in degrees(frames).items()}
    frontier = {label: keys - hubs.get(label, set()) for label, keys in region.items()}
    for _ in range(hops):
        new: Region = {label: set() for label in schema.NODES}
        for rel_type, frame in frames.rels.items():
            spec = schema.rel(rel_type)
            if not len(frame):
                continue
            src, dst = frame["src"].astype(str), frame["dst"].astype(str)
            if frontier.get(spec.source):
                new[spec.target] |= set(dst[src.isin(frontier[spec.source]).to_numpy()])
            if frontier.get(spec.target):
                new[spec.source] |= set(src[dst.isin(frontier[spec.target]).to_numpy()])
        added = {label: keys - region.get(label, set()) for label, keys in new.items()}
        if not any(added.values()):
            break
        for label, keys in added.items():
            region.setdefault(label, set()).update(keys)
        frontier = {label: keys - hubs.get(label, set()) for label, keys in added.items()}
    return region


def crossed_window(frames, since: int | None, as_of: int) -> Region:
    """Nodes whose own time lies in ``(since, as_of]``: they entered the graph's window."""
    region: Region = {label: set() for label in schema.NODES}
    if since is None:
        return region
    for label, frame in frames.nodes.items():
        col = schema.node(label).time
        if col and col in frame and len(frame):
            t = pd.to_numeric(frame[col], errors="coerce").to_numpy()
            hit = np.nan_to_num(t, nan=-1) > since
            region[label] |= set(frame[schema.node(label).key][hit].astype(str))
    return region


def touched_region(frames, delta, depth: int = DEFAULT_HOPS, since_time: int | None = None,
                   hub_cutoff: int | None = DEFAULT_HUB_CUTOFF) -> Region:
    """What an incremental run rewrites: seeds of ``delta`` expanded ``depth + 1`` hops."""
    region = seeds(delta)
    if since_time is not None and frames.as_of is not None:
        for label, keys in crossed_window(frames, since_time, frames.as_of).items():
            region[label] |= keys
    return expand(frames, region, depth + 1, hub_cutoff)


def needs_repair(store, bad_runs: list[str]) -> Region:
    """Scored-label nodes never scored or last written by a run that did not succeed."""
    out = {}
    for label in schema.SCORED_LABELS:
        rows = store.read(cypher.render("rescore/needs_repair", label=label),
                          {"bad_runs": bad_runs})
        out[label] = {r["key"] for r in rows}
    return out


def model_depth(scorer) -> int:
    """Message-passing depth of the scorer's model (how far a change can move a score)."""
    hparams = getattr(getattr(scorer, "system", None), "hparams", None) or {}
    for value in (getattr(scorer, "num_layers", None), getattr(scorer, "depth", None),
                  hparams.get("num_layers") if hasattr(hparams, "get") else None):
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_HOPS
