"""A new order scored from the cached batch state: recompute only what the order touches.

1. **Features** of the order and of the nodes it touches (user, device, IP, address, card,
   products) with the order added, from the cached per-node history
   (:mod:`graphgnn.api.order_features_fast`: numpy look-ups on sorted streams, no frames).
   They equal the batch code's on the cached graph plus the order (a test checks every
   column), except, taken from the cache: population shares (``*_freq``) of existing nodes
   (a new node moves every share by ~1/N) and ``attr_*`` columns. The user's co-user
   columns are computed with the pairs the order makes (:mod:`graphgnn.api.co_users_fast`).
2. **Neighbours the order moves**, as inputs of the touched nodes' aggregations: the user's
   co-users (their pair columns and co-user means / maxima) and the other users of the
   entities the user joins (their ``*_users_max`` / ``_mean``, co-arrivals).
3. **Forward pass** on the order's computation tree (:mod:`graphgnn.api.fast_forward`,
   :mod:`graphgnn.api.tree_model`): the order, the touched nodes and one stand-in row per
   touched node and edge type holding the aggregation of its in-neighbours' features in the
   graph with the order added.

An answer is ``exact = False``: the shares above, the neighbours' columns not followed
(co-users' co-users, base features of co-users beyond the ones listed) and, for an order
later than the cache, untouched nodes' clock-dependent columns are approximations; the serve
benchmark and the tests measure how far they move scores against :func:`exact_recompute`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from graph_build.frames import GraphFrames
from graphgnn.api import order_features_fast as off
from graphgnn.api.co_users_fast import (
    co_user_updates,
    linked_user_updates,
    user_context,
    user_pairs,
)
from graphgnn.api.fast_forward import Edge, computation_tree
from graphgnn.api.snapshot_cache import CachedState
from graphgnn.api.subgraph_frames import (  # noqa: F401 - re-exported (fast_path, bench)
    exact_recompute,
    frames_subgraph,
    merged_frames,
)
from graphgnn.api.tree_model import order_score
from graphgnn.model.features import _RAW, _RAW_PREFIXES, _RAW_SUFFIXES

Node = tuple[str, str]


@dataclass
class FastAnswer:
    """The new order's score and what it was computed from."""

    score: float
    x: np.ndarray  # the order's normalised features
    exact: bool
    nodes: int  # rows of the forward pass
    make_frames: Callable[[], GraphFrames] = field(repr=False, default=GraphFrames)
    timing: dict[str, float] = field(default_factory=dict)
    req: off.NewOrder | None = None
    rows: off.Rows | None = None

    @property
    def frames(self) -> GraphFrames:
        """The frames subgraph around the order (for reasons; built on first use)."""
        if not hasattr(self, "_frames"):
            self._frames = self.make_frames()
        return self._frames


_ORDER_REL = {"Device": "FROM_DEVICE", "IP": "FROM_IP", "Address": "SHIPPED_TO",
              "PaymentMethod": "PAID_WITH"}
_LINK_REL = {"Device": "USED_DEVICE", "IP": "USED_IP"}


def _num(v) -> float:
    return float(v) if v is not None else float("nan")


def new_order(body, state: CachedState) -> off.NewOrder:
    """The order of a request as the build's mapping reads it (one line per product)."""
    lines: dict[str, tuple[str, float, float]] = {}
    for item in body.items:  # the build keeps one CONTAINS per (order, product): the first
        lines.setdefault(item.product_id, (item.product_id, float(item.quantity),
                                           _num(item.price)))
    ents = {label: getattr(body, f) for f, label in (
        ("device_id", "Device"), ("ip", "IP"), ("address_id", "Address"),
        ("payment_id", "PaymentMethod")) if getattr(body, f) is not None}
    attrs = body.user
    created = attrs.created_at if attrs is not None and attrs.created_at is not None \
        else body.created_at
    props = {"country": getattr(attrs, "country", None),
             "email_domain": getattr(attrs, "email_domain", None)}
    return off.NewOrder(body.order_id, body.user_id, int(body.created_at), float(body.amount),
                        ents, list(lines.values()), float(created), props)


def order_rows(state: CachedState, req: off.NewOrder) -> off.Rows:
    return off.Rows(state.row("User", req.user),
                    {label: state.row(label, key) for label, key in req.entities.items()},
                    [state.row("Product", p) for p, _, _ in req.lines])


def order_edges(state: CachedState, req: off.NewOrder, rows: off.Rows,
                co_users: list[int]) -> list[Edge]:
    """The edges the order adds, both directions (links only where the pair is new)."""
    order, user = ("Order", req.key), ("User", req.user)
    out: list[Edge] = []

    def both(s, rel: str, d) -> None:
        out.append((s, (s[0], rel, d[0]), d))
        out.append((d, (d[0], f"rev_{rel}", s[0]), s))

    both(user, "PLACED", order)
    h = state.history
    for label, key in req.entities.items():
        both(order, _ORDER_REL[label], (label, key))
        if label in _LINK_REL:
            links, row = h.links[label], rows.ent[label]
            mine = links.e[links.by_u.ids[slice(*links.by_u.bounds(rows.user))]]
            if row is None or not np.any(mine == row):
                both(user, _LINK_REL[label], (label, key))
    for p, _, _ in req.lines:
        both(order, "CONTAINS", ("Product", p))
    for b in co_users:
        other = ("User", state.key_of("User", int(b)))
        out += [(other, ("User", "co_user", "User"), user),
                (user, ("User", "co_user", "User"), other)]
    return out


@lru_cache(maxsize=64)
def _log_mask(names: tuple[str, ...]) -> np.ndarray:
    """Which columns :func:`graphgnn.model.features._finish` log1p-transforms."""
    return np.array([n not in _RAW and not n.startswith(_RAW_PREFIXES)
                     and not n.endswith(_RAW_SUFFIXES) for n in names], bool)


def _columns(scorer, label: str) -> tuple[dict[str, int], np.ndarray]:
    """(column -> position, log1p mask) of a label's checkpoint columns, kept on the scorer."""
    cols = scorer.__dict__.setdefault("_serve_columns", {})
    if label not in cols:
        names = tuple(scorer.feature_names[label])
        cols[label] = ({n: i for i, n in enumerate(names)}, _log_mask(names))
    return cols[label]


def _vector(state: CachedState, scorer, label: str, row: int | None,
            f: dict[str, float]) -> np.ndarray:
    """Feature vector in the checkpoint's order: computed columns finished as batch does
    (``_finish``, vectorised), the rest from the cached row (0 for a new node)."""
    pos, log_mask = _columns(scorer, label)
    out = state.raw_np(label)[row].astype(np.float64) if row is not None else \
        np.zeros(len(pos))
    keys = [k for k in f if k in pos]
    idx = np.array([pos[k] for k in keys], np.int64)
    v = np.array([f[k] for k in keys], np.float64)
    v = np.where(np.isfinite(v), v, 0.0)  # nan_to_num(nan=0, posinf=0, neginf=0)
    log = log_mask[idx]
    v[log] = np.log1p(v[log].clip(0))
    out[idx] = v.astype(np.float32)
    return out.astype(np.float32)


def fast_features(state: CachedState, scorer, body, as_of: int):
    """``(order, rows, raw, (before, after, linked))``: the request's order, the cached rows
    it touches, the raw (un-normalised) feature vectors of the order and of every touched
    node, the user's co-user pairs without and with the order, and the other users of the
    entities the user joins (row -> raw vector with their moved columns)."""
    h = state.history
    req = new_order(body, state)
    rows = order_rows(state, req)
    raw = {("Order", req.key): _vector(state, scorer, "Order", None,
                                       off.order_raw(h, req, rows))}
    user_f = off.user_raw(h, req, rows, as_of)
    before = user_pairs(state, req, rows, False) if rows.user is not None else {}
    after = user_pairs(state, req, rows, True)
    linked = linked_user_updates(state, scorer, req, rows, {})
    user_f.update(user_context(state, scorer, rows, after, before, linked))
    raw[("User", req.user)] = _vector(state, scorer, "User", rows.user, user_f)
    for label, key in req.entities.items():
        raw[(label, key)] = _vector(state, scorer, label, rows.ent[label], off.entity_raw(
            h, req, rows, label, rows.ent[label], key, as_of))
    for (p, _, _), r in zip(req.lines, rows.prods, strict=True):
        raw[("Product", p)] = _vector(state, scorer, "Product", r, off.entity_raw(
            h, req, rows, "Product", r, p, as_of))
    return req, rows, raw, (before, after, linked)


def _normalise(scorer, t: str, v: np.ndarray) -> np.ndarray:
    """``scorer.normaliser.apply`` for one row, in numpy (the same float32 operations)."""
    norm = scorer.normaliser
    stats = norm.__dict__.setdefault("_numpy_stats", {})  # kept with the normaliser itself
    if t not in stats:
        stats[t] = (norm.mean[t].numpy().astype(np.float32),
                    norm.std[t].numpy().astype(np.float32))
    mean, std = stats[t]
    return np.clip((v.astype(np.float32) - mean) / std, -10.0, 10.0)


@torch.no_grad()
def score_new_order(state: CachedState, scorer, body, as_of: int,
                    make_frames: Callable[[], GraphFrames] = GraphFrames) -> FastAnswer:
    """Score the hypothetical order of ``body`` against the cached state, as of ``as_of``."""
    t0 = time.perf_counter()
    req, rows, raw, (before, after, linked) = fast_features(state, scorer, body, as_of)
    order = ("Order", req.key)
    t1 = time.perf_counter()
    norm = {n: _normalise(scorer, n[0], v) for n, v in raw.items()}
    node_rows = {("User", req.user): rows.user,
                 **{(label, key): rows.ent[label] for label, key in req.entities.items()},
                 **{("Product", p): r for (p, _, _), r in zip(req.lines, rows.prods,
                                                              strict=True)}}
    moved = co_user_updates(state, scorer, rows, raw[("User", req.user)], before, after,
                            linked)
    co = [b for b in after if b not in before]  # new pairs: new co-user edges
    changed = {("User", b): _normalise(scorer, "User", v) for b, v in moved.items()}
    aggr = str(scorer.system.hparams.get("aggr", "mean"))
    tree = computation_tree(state, norm, node_rows, order, order_edges(state, req, rows, co),
                            aggr, changed)
    t2 = time.perf_counter()
    score = float(np.clip(np.nan_to_num(order_score(scorer.system, tree, "Order")), 0.0, 1.0))
    t3 = time.perf_counter()
    return FastAnswer(score, norm[order], exact=False,
                      nodes=tree.rows,
                      make_frames=make_frames,
                      timing={"features": 1000 * (t1 - t0), "tree": 1000 * (t2 - t1),
                              "forward": 1000 * (t3 - t2)}, req=req, rows=rows)
