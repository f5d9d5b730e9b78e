"""Graph frames around a request: the cached frames near a few nodes (for reasons) and the
whole cached graph plus a request's rows (the exact reference the fast path is measured
against)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build import schema
from graph_build.frames import GraphFrames, empty_node_frame, empty_rel_frame
from graphgnn.api.snapshot_cache import CachedState, take

Node = tuple[str, str]
HUB_CAP = 1_000  # orders / links read per touched node (hubs: the last ones)
_ORDER_RELS = {"PLACED": "dst", "FROM_DEVICE": "src", "FROM_IP": "src", "SHIPPED_TO": "src",
               "PAID_WITH": "src", "CONTAINS": "src"}  # which end is the order
_ENTITY_ORDERS = (("User", "PLACED"), ("Device", "FROM_DEVICE"), ("IP", "FROM_IP"),
                  ("Address", "SHIPPED_TO"), ("PaymentMethod", "PAID_WITH"),
                  ("Product", "CONTAINS"))


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


def merged_frames(state: CachedState, hyp: GraphFrames) -> GraphFrames:
    """The whole cached graph plus a request's rows, merged as the build's MERGE would."""
    g = state.out.fs.frames
    full = GraphFrames(as_of=g.as_of)
    full.nodes = {lab: _merge_node(lab, g.nodes[lab], hyp.nodes.get(lab)) for lab in schema.NODES}
    full.rels = {rel: _merge_rel(rel, g.rels[rel], hyp.rels.get(rel))
                 for rel in schema.RELATIONSHIPS}
    return full


def exact_recompute(state: CachedState, scorer, hyp: GraphFrames, order_key: str,
                    as_of: int) -> float:
    """The order's score from the whole cached graph plus its rows, by the batch scorer (the
    reference the fast answer approximates: benchmark and tests)."""
    from graphgnn.scores.scoring import score_graph

    scores = score_graph(scorer, merged_frames(state, hyp), as_of)["Order"]
    key = schema.node("Order").key
    return float(scores.loc[scores[key].astype(str) == order_key, "anomaly_score"].iloc[0])
