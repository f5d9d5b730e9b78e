"""A new order scored from the cached batch state: recompute only what the order touches.

1. **Frames subgraph** around the nodes the order touches (its user, device, IP, address,
   card, products): their own history — the orders of each (at most :data:`HUB_CAP` per node),
   every relationship of those orders, the users' device/IP links, the orders at the user's
   addresses and cards — plus the order's own rows (the build's mapping).
2. **Features** of the order and of the touched nodes by the batch feature code on that
   subgraph (:func:`graphgnn.model.serving.local_features`): the order's are exact (orders are
   described from their own prior history); the touched nodes' counts and windows are exact
   up to hub caps. Two kinds come from the cache, stale by this one order: population shares
   (``*_freq``) of existing nodes and the co-user context columns (``co_*``) of an existing
   user (they read four hops further). A new user's co-user columns are computed on the
   subgraph. Every other node's features are the cached ones.
3. **Forward pass** on the L-hop subgraph around the order (L = model depth): the cached
   HeteroData's in-edges of every node within L - 1 hops (their sources join as the outer
   shell) plus the order's new edges, all edge types present, as in batch.

An answer is ``exact = False``: the stale columns above, and the untouched neighbours whose
counts the order would move (the device's other users …), are approximations; the serve
benchmark measures how far they move scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from graph_build import schema
from graph_build.frames import GraphFrames, empty_node_frame, empty_rel_frame
from graphgnn.api.snapshot_cache import CachedState, take
from graphgnn.model.pit import _freq
from graphgnn.model.serving import local_features

Node = tuple[str, str]
HUB_CAP = 1_000  # orders / links read per touched node (hubs: the last ones)
_ORDER_RELS = {"PLACED": "dst", "FROM_DEVICE": "src", "FROM_IP": "src", "SHIPPED_TO": "src",
               "PAID_WITH": "src", "CONTAINS": "src"}  # which end is the order
_ENTITY_ORDERS = (("User", "PLACED"), ("Device", "FROM_DEVICE"), ("IP", "FROM_IP"),
                  ("Address", "SHIPPED_TO"), ("PaymentMethod", "PAID_WITH"),
                  ("Product", "CONTAINS"))


@dataclass
class FastAnswer:
    """The new order's score and what it was computed from."""

    score: float
    x: np.ndarray  # the order's normalised features
    frames: GraphFrames  # the frames subgraph (for reasons)
    exact: bool
    nodes: int  # nodes of the forward pass
    frame_nodes: int  # nodes of the frames subgraph


def _rows(state: CachedState, nodes: list[Node]) -> dict[str, np.ndarray]:
    out: dict[str, list[int]] = {}
    for label, key in nodes:
        r = state.row(label, key)
        if r is not None:
            out.setdefault(label, []).append(r)
    return {k: np.unique(np.array(v, np.int64)) for k, v in out.items()}


def frames_subgraph(state: CachedState, touched: list[Node],
                    hyp: GraphFrames) -> tuple[GraphFrames, bool]:
    """The cached frames around ``touched`` (see the module docstring) merged with ``hyp``."""
    g, capped = state.out.fs.frames, False
    rows = _rows(state, touched)
    edges: dict[str, list[np.ndarray]] = {r: [] for r in schema.RELATIONSHIPS}
    orders: list[np.ndarray] = []

    def grab(rel: str, end: str, at: np.ndarray, cap: int | None = HUB_CAP) -> np.ndarray:
        nonlocal capped
        ids, hit = take((state.by_src if end == "src" else state.by_dst)[rel], at, cap)
        capped |= hit
        edges[rel].append(ids)
        return ids

    def other(rel: str, end: str, ids: np.ndarray) -> np.ndarray:
        s, d = state.rel_rows[rel]
        return (d if end == "src" else s)[ids]

    for label, rel in _ENTITY_ORDERS:
        at = rows.get(label, np.zeros(0, np.int64))
        end = "src" if label == "User" else "dst"
        orders.append(other(rel, end, grab(rel, end, at)))
    user = rows.get("User", np.zeros(0, np.int64))
    mine = other("PLACED", "src", take(state.by_src["PLACED"], user, HUB_CAP)[0])
    for rel in ("SHIPPED_TO", "PAID_WITH"):  # the user's addresses/cards and who else uses them
        ents = np.unique(other(rel, "src", take(state.by_src[rel], mine)[0]))
        orders.append(other(rel, "dst", grab(rel, "dst", ents)))
    for rel, label in (("USED_DEVICE", "Device"), ("USED_IP", "IP")):
        linked = other(rel, "src", grab(rel, "src", user))
        grab(rel, "dst", np.unique(np.concatenate([linked, rows.get(label, linked[:0])])))
    orders.append(rows.get("Order", np.zeros(0, np.int64)))  # an existing order's own edges
    every = np.unique(np.concatenate(orders))
    for rel, end in _ORDER_RELS.items():  # each gathered order whole: order_table needs it
        grab(rel, end, every, None)
    keep: dict[str, list[np.ndarray]] = {label: [v] for label, v in rows.items()}
    out = GraphFrames(as_of=g.as_of)
    for rel, spec in schema.RELATIONSHIPS.items():
        ids = np.unique(np.concatenate(edges[rel])) if edges[rel] else np.zeros(0, np.int64)
        s, d = state.rel_rows[rel]
        keep.setdefault(spec.source, []).append(s[ids])
        keep.setdefault(spec.target, []).append(d[ids])
        out.rels[rel] = _merge_rel(rel, g.rels[rel].iloc[ids], hyp.rels.get(rel))
    for label in schema.NODES:
        at = np.unique(np.concatenate(keep.get(label, [np.zeros(0, np.int64)])))
        out.nodes[label] = _merge_node(label, g.nodes[label].iloc[at], hyp.nodes.get(label))
    return out, capped


def _merge_node(label: str, base: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
    spec = schema.node(label)
    if extra is None or not len(extra):
        return base.reset_index(drop=True) if len(base) else empty_node_frame(label)
    extra = extra[[c for c in extra.columns if c in (spec.key, *spec.properties)]]
    frame = pd.concat([base, extra], ignore_index=True)
    if spec.time == "first_seen":  # the build's MERGE keeps the earlier sighting
        t = pd.to_numeric(frame["first_seen"], errors="coerce")
        frame = frame.assign(first_seen=t.groupby(frame[spec.key]).transform("min"))
    return frame.drop_duplicates(spec.key, keep="first").reset_index(drop=True)


def _merge_rel(rel: str, base: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
    spec = schema.rel(rel)
    if extra is None or not len(extra):
        return base.reset_index(drop=True) if len(base) else empty_rel_frame(rel)
    extra = extra[[c for c in extra.columns if c in ("src", "dst", *spec.properties)]]
    frame = pd.concat([base, extra], ignore_index=True)
    if spec.aggregated:
        frame = frame.sort_values("first_seen", kind="stable")
    return frame.drop_duplicates(["src", "dst"], keep="first").reset_index(drop=True)


def _population_share(state: CachedState, label: str, column: str, value) -> float | None:
    """A new node's ``<column>_freq``: its value's share among the cached nodes plus it."""
    frame = state.out.fs.frames.nodes[label]
    if column not in frame:
        return None
    both = pd.concat([frame[column].astype("string"), pd.Series([value], dtype="string")],
                     ignore_index=True)
    return float(_freq(both)[-1])


def touched_features(state: CachedState, scorer, local, nodes: list[Node],
                     new: set[Node]) -> dict[Node, np.ndarray]:
    """Raw feature vectors of ``nodes`` from the local FeatureSet, cached columns filled in."""
    out = {}
    for label, key in nodes:
        names = scorer.feature_names[label]
        table = local.tables[label]
        spec = schema.node(label)
        hit = np.flatnonzero(table[spec.key].to_numpy() == key)
        if not len(hit):
            continue
        x = table[names].iloc[int(hit[0])].to_numpy(np.float32).copy()
        r = state.row(label, key)
        for i, name in enumerate(names):
            cached = name.endswith("_freq") or (label == "User" and r is not None
                                                and name.startswith(("co_", "co2_")))
            if not cached:
                continue
            if r is not None:
                x[i] = float(state.out.raw[label][r, i])
            elif (label, key) in new and name.endswith("_freq"):
                row = local.frames.nodes[label]
                value = row.loc[row[spec.key] == key, name[:-5]].iloc[0] \
                    if name[:-5] in row else None
                share = _population_share(state, label, name[:-5], value)
                if share is not None:
                    x[i] = share
        out[(label, key)] = np.nan_to_num(x, nan=0.0)
    return out


@torch.no_grad()
def score_new_order(state: CachedState, scorer, order: Node, touched: list[Node],
                    hyp: GraphFrames, as_of: int, depth: int) -> FastAnswer:
    """Score the hypothetical order ``order`` (rows in ``hyp``) against the cached state."""
    new = {n for n in [order, *touched] if state.row(*n) is None}
    frames, capped = frames_subgraph(state, touched, hyp)
    user_new = any(label == "User" for label, _ in new)
    local = local_features(scorer, frames, as_of, user_context=user_new)
    nodes = [order, *touched]
    raw = touched_features(state, scorer, local, nodes, new)
    data = state.out.data
    norm = {n: scorer.normaliser.apply(n[0], torch.from_numpy(v[None, :]))[0]
            for n, v in raw.items()}
    # Local node ids: cached rows first (in order of discovery), then the new nodes.
    rows: dict[str, list[int]] = {t: [] for t in data.node_types}
    pos: dict[str, dict[int, int]] = {t: {} for t in data.node_types}

    def local_id(t: str, r: int) -> int:
        if r not in pos[t]:
            pos[t][r] = len(rows[t])
            rows[t].append(r)
        return pos[t][r]

    frontier = {t: [] for t in data.node_types}
    for label, key in touched:
        r = state.row(label, key)
        if r is not None:
            local_id(label, r)
            frontier[label].append(r)
    edges: dict[tuple, list[tuple[np.ndarray, np.ndarray]]] = {et: [] for et in data.edge_types}
    for _ in range(depth - 1):  # in-edges of every node within depth - 1 hops
        nxt = {t: [] for t in data.node_types}
        for et in data.edge_types:
            at = np.unique(np.array(frontier[et[2]], np.int64))
            if not len(at):
                continue
            ids, _ = take(state.in_edges[et], at)
            ei = data[et].edge_index[:, ids].numpy()
            src = [local_id(et[0], int(s)) for s in ei[0]]
            dst = [pos[et[2]][int(d)] for d in ei[1]]
            edges[et].append((np.array(src, np.int64), np.array(dst, np.int64)))
            seen = set(frontier[et[0]])
            nxt[et[0]].extend(int(s) for s in np.unique(ei[0]) if int(s) not in seen)
        frontier = nxt
    # The new nodes get ids after the cached ones.
    counts = {t: len(rows[t]) for t in data.node_types}
    new_id: dict[Node, int] = {}
    for n in nodes:
        if n in new and n not in new_id:
            new_id[n] = counts[n[0]]
            counts[n[0]] += 1

    def lid(n: Node) -> int:
        r = state.row(*n)
        return new_id[n] if r is None else pos[n[0]][r]

    for rel, spec in schema.RELATIONSHIPS.items():  # the order's own edges, both directions
        frame = hyp.rels.get(rel)
        if frame is None or not len(frame):
            continue
        for s_key, d_key in zip(frame["src"].astype(str), frame["dst"].astype(str), strict=True):
            s, d = (spec.source, s_key), (spec.target, d_key)
            if s not in new and d not in new:
                continue  # an existing link (the user's known device): already cached
            if s not in raw or d not in raw:
                continue
            one = (np.array([lid(s)]), np.array([lid(d)]))
            edges[(spec.source, rel, spec.target)].append(one)
            edges[(spec.target, f"rev_{rel}", spec.source)].append((one[1], one[0]))
    batch = HeteroData()
    for t in data.node_types:
        x = data[t].x[torch.as_tensor(rows[t], dtype=torch.long)] if rows[t] else \
            data[t].x[:0]
        extra = [norm[n] for n in nodes if n in new_id and n[0] == t and n in norm]
        if extra:
            x = torch.cat([x, torch.stack(extra)])
        for n, v in norm.items():  # touched existing nodes: their recomputed features
            if n[0] == t and n not in new:
                x[pos[t][state.row(*n)]] = v
        batch[t].x = x
        batch[t].num_nodes = x.shape[0]
    for et in data.edge_types:
        parts = edges[et]
        ei = np.stack([np.concatenate([p[0] for p in parts]),
                       np.concatenate([p[1] for p in parts])]) if parts else \
            np.zeros((2, 0), np.int64)
        batch[et].edge_index = torch.from_numpy(ei.astype(np.int64))
    scores = scorer.system.node_scores(batch)
    score = float(np.clip(np.nan_to_num(scores["Order"][new_id[order]].item()), 0.0, 1.0))
    return FastAnswer(score, norm[order].numpy(), frames, exact=False,
                      nodes=sum(counts.values()), frame_nodes=sum(len(f) for f in
                                                                   frames.nodes.values()))


def exact_recompute(state: CachedState, scorer, hyp: GraphFrames, order_key: str,
                    as_of: int) -> float:
    """The order's score from the whole cached graph plus its rows, by the batch scorer (the
    reference the fast answer approximates: benchmark and tests)."""
    from graphgnn.scores.scoring import score_graph

    g = state.out.fs.frames
    full = GraphFrames(as_of=g.as_of)
    full.nodes = {lab: _merge_node(lab, g.nodes[lab], hyp.nodes.get(lab)) for lab in schema.NODES}
    full.rels = {rel: _merge_rel(rel, g.rels[rel], hyp.rels.get(rel))
                 for rel in schema.RELATIONSHIPS}
    scores = score_graph(scorer, full, as_of)["Order"]
    key = schema.node("Order").key
    return float(scores.loc[scores[key].astype(str) == order_key, "anomaly_score"].iloc[0])
