"""Per-node running history of the cached batch state: what a new order's features read.

Built once per :class:`~graphgnn.api.snapshot_cache.CachedState` from its FeatureSet (the graph
cut at the state's time, rows in feature order) with the batch feature code's own inputs
(:func:`graphgnn.model.order_features.order_table`, :func:`graphgnn.model.pit._edges`,
:func:`graphgnn.model.pit._near_count`). Every event stream — orders per user / device / IP /
address / card / first product, order lines per product, user links per entity — is grouped by
node row and sorted by time, with prefix sums and per-group prefix / suffix maxima, so that a
new order (at or after every cached event) reads each of its features in O(log degree):
:mod:`graphgnn.api.order_features_fast`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from graph_build import schema
from graphgnn.model.context import _known
from graphgnn.model.features import FeatureSet
from graphgnn.model.order_features import order_table
from graphgnn.model.pit import DAY, HOUR, _edges, _near_count, _node_time, _num

ENTITY_LABELS = ("Device", "IP", "Address", "PaymentMethod", "Product")
ORDER_ENTITIES = ("Device", "IP", "Address", "PaymentMethod")  # order_table's columns
_LINK_RELS = {"Device": "USED_DEVICE", "IP": "USED_IP"}
FREQ_COLUMNS = (("User", "country"), ("User", "email_domain"), ("Device", "os"),
                ("Device", "browser"))


def _prefix(v: np.ndarray) -> np.ndarray:
    """``C[i] = sum(v[:i])`` (so a range sum is ``C[hi] - C[lo]``)."""
    out = np.zeros(len(v) + 1)
    np.cumsum(np.asarray(v, np.float64), out=out[1:])
    return out


def _group_max(v: np.ndarray, starts: np.ndarray, reverse: bool) -> np.ndarray:
    """Running max of ``v`` within each group (groups are contiguous, ``starts`` marks them),
    from the group's start (``reverse=False``) or from its end (``reverse=True``)."""
    if not len(v):
        return np.zeros(0)
    gid = np.cumsum(starts) - 1
    span = float(np.max(np.abs(v))) * 2 + 2.0
    if reverse:
        w = v[::-1] + (gid.max() - gid[::-1]) * span
        return (np.maximum.accumulate(w) - (gid.max() - gid[::-1]) * span)[::-1]
    return np.maximum.accumulate(v + gid * span) - gid * span


@dataclass
class Stream:
    """Events of one kind grouped by node row and sorted by (time, event id).

    Attributes:
        indptr: ``[n + 1]`` group bounds. t: ``[E]`` times (sorted within a group).
        ids: ``[E]`` event ids (order rows, link ids …) in that order.
        sums: name -> prefix sums ``[E + 1]`` of a per-event value (see :func:`_prefix`).
        pmax, smax: name -> per-group prefix / suffix maxima ``[E]`` of a per-event value.
    """

    indptr: np.ndarray
    t: np.ndarray
    ids: np.ndarray
    sums: dict[str, np.ndarray]
    pmax: dict[str, np.ndarray]
    smax: dict[str, np.ndarray]

    @classmethod
    def build(cls, group: np.ndarray, t: np.ndarray, n: int, sums: dict | None = None,
              maxes: dict | None = None) -> Stream:
        ok = group >= 0
        ids = np.flatnonzero(ok)
        order = ids[np.lexsort((ids, t[ids], group[ids]))]
        g = group[order]
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(g, minlength=n)[:n], out=indptr[1:])
        starts = np.ones(len(g), bool)
        starts[1:] = g[1:] != g[:-1]
        return cls(indptr, t[order].astype(np.int64), order,
                   {k: _prefix(v[order]) for k, v in (sums or {}).items()},
                   {k: _group_max(v[order].astype(np.float64), starts, False)
                    for k, v in (maxes or {}).items()},
                   {k: _group_max(v[order].astype(np.float64), starts, True)
                    for k, v in (maxes or {}).items()})

    def bounds(self, row: int | None) -> tuple[int, int]:
        if row is None or row < 0:
            return 0, 0
        return int(self.indptr[row]), int(self.indptr[row + 1])

    def count_before(self, lo: int, hi: int, t: int, side: str = "left") -> int:
        """Events of the group ``[lo, hi)`` with time ``< t`` (``side="right"``: ``<= t``)."""
        if hi <= lo:
            return 0
        return int(np.searchsorted(self.t[lo:hi], t, side=side))

    def count_many(self, lo: int, hi: int, ts: list[int], side: str = "left") -> np.ndarray:
        """:meth:`count_before` for several times at once (one search)."""
        if hi <= lo:
            return np.zeros(len(ts), np.int64)
        return np.searchsorted(self.t[lo:hi], ts, side=side)

    def range_sum(self, name: str, lo: int, hi: int) -> float:
        c = self.sums[name]
        return float(c[hi] - c[lo])

    def range_max(self, name: str, lo: int, hi: int, start: int, end: int) -> float:
        """Max of ``name`` over ``[start, end)`` where that range begins at the group start
        ``lo`` or ends at the group end ``hi`` (-inf when empty)."""
        if end <= start:
            return -np.inf
        if start == lo:
            return float(self.pmax[name][end - 1])
        if end == hi:
            return float(self.smax[name][start])
        raise ValueError(f"{name}: only group prefixes and suffixes are indexed")


@dataclass
class Links:
    """Users' links to one entity label (as :func:`graphgnn.model.entity_features` sees them):
    per link the user row ``u``, entity row ``e``, time ``t`` and its 24 h co-arrival count,
    grouped by entity (``by_e``, with the fresh-signup counts and co-arrival maxima) and by
    user (``by_u``); ``min_delay`` the smallest signup-to-link delay per entity (h)."""

    u: np.ndarray
    e: np.ndarray
    t: np.ndarray
    near: np.ndarray
    by_e: Stream
    by_u: Stream
    min_delay: np.ndarray


@dataclass
class History:
    """Everything :mod:`graphgnn.api.order_features_fast` reads (see the module docstring).

    Attributes:
        o: :func:`order_table` of the state (user, t, amount, Device/IP/Address/PaymentMethod).
        order_keys: order key per row (ties in time are broken by key, as the batch sorts).
        prod: first product line of each order (-1 none), as the order context reads it.
        fraud, labelled: per order, known fraud / known label (the order's or its user's).
        orders: grouping -> :class:`Stream` of order rows (``user``, entity labels, ``prod``),
            with sums ``one``, ``amount``, ``log_amount``, ``fraud``, ``labelled`` and maxima
            ``near_1h`` (orders of the group in the hour before each).
        lines: order lines per product (:class:`Stream` of CONTAINS rows, sums ``amount``).
        links: label -> :class:`Links`.
        order_users: label -> distinct users of each entity's orders.
        node_time: label -> node time per row (NaN when none). user_fraud: per user row.
        value_counts: (label, column) -> value -> nodes (``*_freq`` shares of new nodes).
        prices: the products' price column.
    """

    o: dict[str, np.ndarray]
    order_keys: np.ndarray
    prod: np.ndarray
    fraud: np.ndarray
    labelled: np.ndarray
    orders: dict[str, Stream]
    lines: Stream
    line_order: np.ndarray
    links: dict[str, Links]
    order_users: dict[str, np.ndarray]
    node_time: dict[str, np.ndarray]
    user_fraud: np.ndarray
    user_labelled: np.ndarray
    value_counts: dict[tuple[str, str], dict[str, int]]
    prices: np.ndarray


def _order_stream(group: np.ndarray, n: int, o: dict, fraud, labelled) -> Stream:
    t, amt = o["t"], o["amount"]
    near = np.zeros(len(t))
    ok = group >= 0
    near[ok] = _near_count(group[ok], t[ok], HOUR)
    return Stream.build(group, t, n, sums={"one": np.ones(len(t)), "amount": amt,
                                           "log_amount": np.log1p(amt), "fraud": fraud,
                                           "labelled": labelled}, maxes={"near_1h": near})


def _links(u: np.ndarray, e: np.ndarray, t: np.ndarray, n_e: int, n_u: int,
           created: np.ndarray) -> Links:
    near = _near_count(e, t, DAY, DAY) if len(e) else np.zeros(0)
    delay = (t - np.nan_to_num(created[u], nan=0)).clip(0) / HOUR if len(u) else np.zeros(0)
    by_e = Stream.build(e, t, n_e, sums={"fresh": (delay < 24).astype(np.float64)},
                        maxes={"near": near})
    min_delay = np.full(n_e, np.inf)
    np.minimum.at(min_delay, e, delay)
    return Links(u, e, t, near, by_e, Stream.build(u, t, n_u), min_delay)


def build_history(fs: FeatureSet, known) -> History:
    """Index the state's event streams (once per cached state; vectorised)."""
    g = fs.frames
    o = order_table(g)
    n_orders, n_users = g.node_count("Order"), g.node_count("User")
    ofraud, olab = _known(fs, "Order", known)
    ufraud, ulab = _known(fs, "User", known)
    user = o["user"]
    has_user = user >= 0
    fraud = np.maximum(ofraud, np.where(has_user, ufraud[np.maximum(user, 0)], 0))
    labelled = np.maximum(olab, np.where(has_user, ulab[np.maximum(user, 0)], 0))
    s, d, te = _edges(g, "CONTAINS")
    prod = np.full(n_orders, -1, np.int64)
    prod[s[::-1]] = d[::-1]  # the first product line of each order (context's choice)
    counts = {label: g.node_count(label) for label in schema.NODES}
    orders = {"user": _order_stream(user, n_users, o, fraud, labelled),
              "prod": _order_stream(prod, counts["Product"], o, fraud, labelled)}
    for label in ORDER_ENTITIES:
        orders[label] = _order_stream(o[label], counts[label], o, fraud, labelled)
    line_amt = o["amount"][s] if len(s) else np.zeros(0)
    line_near = _near_count(d, te, HOUR) if len(d) else np.zeros(0)
    lines = Stream.build(d, te, counts["Product"], sums={"amount": line_amt},
                         maxes={"near_1h": line_near})
    created = _node_time(g, "User")
    links: dict[str, Links] = {}
    order_users: dict[str, np.ndarray] = {}
    for label in ENTITY_LABELS:
        if label in _LINK_RELS:
            lu, le, lt = _edges(g, _LINK_RELS[label])
        elif label == "Product":
            ou = user[s] if len(s) else np.zeros(0, np.int64)
            lu, le, lt = ou[ou >= 0], d[ou >= 0], te[ou >= 0]
        else:
            lu, le, lt = _first_pairs(user, o[label], o["t"])
        links[label] = _links(lu.astype(np.int64), le.astype(np.int64), lt.astype(np.int64),
                              counts[label], n_users, created)
        if label in ORDER_ENTITIES:
            pu, pe, _ = _first_pairs(user, o[label], o["t"])
            order_users[label] = np.bincount(pe, minlength=counts[label])[:counts[label]]
    node_time = {label: _node_time(g, label) for label in schema.NODES}
    counts_of = {}
    for label, col in FREQ_COLUMNS:
        frame = g.nodes[label]
        if col in frame:  # as _freq: missing values count as one value
            v = frame[col].astype("string").fillna("<na>")
            counts_of[(label, col)] = {str(k): int(c) for k, c in v.value_counts().items()}
    product = g.nodes["Product"]
    prices = _num(product["price"]) if "price" in product else np.full(len(product), np.nan)
    return History(o, g.keys("Order").astype(str).to_numpy(), prod, fraud, labelled, orders,
                   lines, s.astype(np.int64), links, order_users, node_time, ufraud, ulab,
                   counts_of, prices)


def _first_pairs(u: np.ndarray, e: np.ndarray, t: np.ndarray):
    """Distinct (user, entity) pairs of orders with both, and the first time of each."""
    ok = (u >= 0) & (e >= 0)
    frame = pd.DataFrame({"u": u[ok], "e": e[ok], "t": t[ok]})
    first = frame.groupby(["u", "e"], sort=False)["t"].min().reset_index()
    return (first["u"].to_numpy(np.int64), first["e"].to_numpy(np.int64),
            first["t"].to_numpy(np.int64))


def user_created(h: History, row: int | None) -> float:
    """A cached user's creation time (NaN when unknown or not cached)."""
    return float(h.node_time["User"][row]) if row is not None else np.nan
