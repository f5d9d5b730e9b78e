"""The region an incremental rescore rewrites: every node whose written score would change.

Why measured, not predicted. A full run writes ``round(score, 6)`` on every scored node. An
increment that must leave the store exactly as a full run would (a test checks every node) has
to rewrite each node whose rounded score moved — and the move cannot be bounded by hops from
what was ingested:

- **as-of moves every node.** The as-of is the latest event (:mod:`graphgnn.scores.rescore`);
  a new event one minute later shifts every user's, device's and IP's ages and windows (on
  the 20k-user benchmark graph, 96k of 170k feature rows change). Measured on that graph:
  scoring only the receptive field of rows changed by more than 1e-5 (z-units) still misses
  score moves of 1e-6, and by more than 1e-3, of 6.5e-5; the exact receptive field of the rows
  that change at all is the whole graph.
- **Features read far and wide**: co-user context (a co-user's own neighbourhood), attribute
  shares over a whole label (``country_freq``, ``os_freq``): one new node moves every share of
  its label. Measured: 200 new devices (1% of the users touched) moved the stored score of
  58k of 112k nodes — every one of which a full run rewrites too.
- **Hubs still move their neighbours** under mean aggregation, by 1/degree: a hub cutoff that
  stops the spread (the previous design) leaves stale scores.

So every run scores the whole graph — features in one vectorised pass, the forward pass as one
sparse product per edge type (:mod:`graphgnn.model.fastscore`), the graph built once and shared
with attribution (:mod:`graphgnn.model.session`) — and what the increment saves is measured:
it exports only the delta (:mod:`graphgnn.scores.cache`), compares each node's new rounded
score with the stored one (cached by run, :func:`graphgnn.scores.cache.load_scores`, or read
from the store) and rewrites, attributes and explains only :func:`changed` nodes, plus the
nodes an ingest after the watermark created or changed (:func:`seeds`) and those a crashed run
left behind (:func:`needs_repair`). Flag changes anywhere are written too
(:func:`graphgnn.scores.writeback.plan_label`). Percentiles and reasons of nodes whose score
did not move stay as the run that wrote them left them.

Why features and layer outputs are not cached per node. Exactness here is bit-for-bit, not
"within a tolerance": a score one float ulp off lands on the other side of a 6-decimal
rounding boundary for some node of 100k, and that node then differs from a full run's. The
feature code sums groups through one cumulative sum over a whole sorted event array
(:func:`graphgnn.model.pit._prior_sum`) and the forward pass reduces each row in the order of
its CSR row, so recomputing only some rows, or adding a delta to cached layer outputs, moves
last bits; and with the as-of moving, the rows that change at all are nearly all rows (see
above). What an increment skips is measured instead (profile at 20k users, one minute and 1%
of users later, scores of 98% of the nodes moved): the store scan for the latest event (read
from the cache and the delta, :func:`graphgnn.scores.cache.export_latest`), the full export,
re-writing unchanged cache files, and attribution of nodes whose score kept its attribution;
what it still pays is features (~20% of it), the forward pass (~5%), reasons (~20%), the
write-back of the moved nodes (~25%) and rings (~6%).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build import cypher, schema

DEFAULT_HOPS = 2
#: Kept for command lines that pass ``--hub-cutoff``: the region is measured, so it is unused.
DEFAULT_HUB_CUTOFF = 200

Region = dict[str, set[str]]


def seeds(delta) -> Region:
    """Nodes of ``delta`` (an export of what changed) and both ends of its relationships."""
    region: Region = {label: set() for label in schema.NODES}
    if delta is None:
        return region
    for label, frame in delta.nodes.items():
        if len(frame):
            region[label] |= set(frame[schema.node(label).key].astype(str))
    for rel_type, frame in delta.rels.items():
        if len(frame):
            spec = schema.rel(rel_type)
            region[spec.source] |= set(frame["src"].astype(str))
            region[spec.target] |= set(frame["dst"].astype(str))
    return region


def rounded(scores: np.ndarray) -> np.ndarray:
    """Scores as the write-back stores them (Python's ``round(x, 6)``, exactly)."""
    return np.fromiter((round(float(x), 6) for x in scores), dtype=float, count=len(scores))


def changed(scores: dict[str, pd.DataFrame], stored: dict[str, pd.Series]) -> Region:
    """Per scored label, the keys whose rounded new score differs from the stored one (or
    that hold none)."""
    out: Region = {}
    for label, frame in scores.items():
        key = schema.node(label).key
        keys = frame[key].astype(str).to_numpy()
        new = rounded(frame["anomaly_score"].to_numpy(float))
        old = stored.get(label)
        if old is None or not len(old):
            out[label] = set(keys)
            continue
        old = old[~old.index.duplicated(keep="last")]
        before = old.reindex(keys).to_numpy(float)
        moved = np.isnan(before) | (before != new)
        out[label] = set(keys[moved])
    return out


def stored_scores(store) -> dict[str, pd.Series]:
    """label -> the ``anomaly_score`` every scored node holds now, by key (unscored: absent)."""
    out = {}
    for label in schema.SCORED_LABELS:
        rows = store.read(cypher.render("scoring/scores", label=label))
        out[label] = pd.Series([float(r["score"]) for r in rows],
                               index=[str(r["key"]) for r in rows], dtype=float)
    return out


def union(*regions: Region) -> Region:
    """Label-wise union of regions."""
    out: Region = {}
    for region in regions:
        for label, keys in region.items():
            out.setdefault(label, set()).update(keys)
    return out


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
