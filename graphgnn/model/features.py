"""Point-in-time node features: what the graph says about every node as of a time T.

Everything here is computed from :class:`~graph_build.frames.GraphFrames` cut at T
(:func:`cut_frames`): nodes whose time is after T are dropped, relationships first seen after T
are dropped, and of aggregated relationships (``USED_DEVICE``, ``USED_IP``) only ``first_seen``
survives — their ``last_seen``, ``count`` and ``times`` describe the whole history and would
leak the future. So a feature can only move when something at or before T changes.

All work is vectorised (numpy/pandas group-bys, sorted searches); nothing loops per node.
Counts and durations are ``log1p``-transformed; the normaliser in :mod:`graphgnn.model.hetero` then
z-scores them with statistics fitted on training nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from graph_build import schema
from graph_build.frames import GraphFrames

HOUR, DAY = 3_600_000, 86_400_000
WINDOWS: dict[str, int] = {"1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY}
#: Bumped whenever a feature's meaning changes: checkpoints and caches record it.
FEATURE_VERSION = "pit-1"
# Columns kept raw (already bounded); everything else is a non-negative count/duration -> log1p.
_RAW = ("hour_sin", "hour_cos")
_LEAKY_EDGE_PROPS = ("last_seen", "count", "times")


@dataclass
class FeatureSet:
    """Features of every node label as of ``as_of``.

    Attributes:
        frames: the graph cut at ``as_of`` (node rows in the order the features use).
        tables: label -> frame ``[key, *feature columns]`` (float32, finite), one row per node
            of ``frames.nodes[label]`` in the same order.
        times: label -> int64 array, the node's latest activity at or before ``as_of``
            (its own time when it has no timed relationships; ``as_of`` when it has no time).
        first_times: label -> int64 array, the node's first activity: its earliest timed
            relationship, else its own time (the temporal split uses it: when a node became
            known), 0 when it has neither.
        as_of: the cut-off, epoch ms.
    """

    frames: GraphFrames
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    times: dict[str, np.ndarray] = field(default_factory=dict)
    first_times: dict[str, np.ndarray] = field(default_factory=dict)
    as_of: int = 0

    @property
    def names(self) -> dict[str, list[str]]:
        """Feature column names per label (key column excluded)."""
        return {label: [c for c in t.columns if c != schema.node(label).key]
                for label, t in self.tables.items()}


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
def _edges(g: GraphFrames, rel_type: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source row, target row, time) of every relationship, as positions into node frames."""
    spec = schema.rel(rel_type)
    frame = g.rels[rel_type]
    src_idx = pd.Index(g.keys(spec.source).astype(str))
    dst_idx = pd.Index(g.keys(spec.target).astype(str))
    s = src_idx.get_indexer(frame["src"].astype(str))
    d = dst_idx.get_indexer(frame["dst"].astype(str))
    t = _num(frame[spec.time], 0).astype(np.int64) if spec.time else np.zeros(len(frame), np.int64)
    return s, d, t


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


# -- per-label features ----------------------------------------------------------------------
def _orders(g: GraphFrames) -> dict[str, np.ndarray]:
    """Per order: user, time, amount and the device/IP/address/payment it used (-1 if none)."""
    n = g.node_count("Order")
    frame = g.nodes["Order"]
    out = {"t": _num(frame["created_at"], 0).astype(np.int64),
           "amount": _num(frame["amount"], 0).clip(0)}
    for rel_type, name in (("PLACED", "user"), ("FROM_DEVICE", "Device"), ("FROM_IP", "IP"),
                           ("SHIPPED_TO", "Address"), ("PAID_WITH", "PaymentMethod")):
        s, d, _ = _edges(g, rel_type)
        col = np.full(n, -1, np.int64)
        if rel_type == "PLACED":
            col[d] = s
        else:
            col[s] = d
        out[name] = col
    return out


def _user_features(g: GraphFrames, o: dict, t_cut: int) -> tuple[dict, np.ndarray]:
    n = g.node_count("User")
    created = _node_time(g, "User")
    created = np.where(np.isnan(created), t_cut, created)
    f: dict[str, np.ndarray] = {"age_days": (t_cut - created).clip(0) / DAY}
    has = o["user"] >= 0
    u, t, amt = o["user"][has], o["t"][has], o["amount"][has]
    n_orders = _count(u, n)
    f["orders"] = n_orders
    f.update(_windows("orders", u, t, n, t_cut))
    f["amount_sum"] = _count(u, n, amt)
    f.update(_windows("amount", u, t, n, t_cut, amt))
    f["amount_mean"] = f["amount_sum"] / np.maximum(n_orders, 1)
    f["amount_max"] = _gmax(u, amt, n)
    first, last = _gmin(u, t, n, np.nan), _gmax(u, t, n, np.nan)
    f["has_order"] = (n_orders > 0).astype(np.float64)
    f["days_since_last_order"] = np.where(n_orders > 0, t_cut - last, t_cut - created) / DAY
    # Not ordered yet: the time since signup is a lower bound of the delay.
    f["signup_to_first_order_h"] = (np.where(n_orders > 0, first, t_cut) - created).clip(0) / HOUR
    order = np.lexsort((t, u))
    su, st = u[order], t[order]
    same = ~_group_starts(su)
    gaps = np.where(same, np.diff(st, prepend=st[:1]), np.nan)
    ok = ~np.isnan(gaps)
    f["gap_min_h"] = _gmin(su[ok], gaps[ok], n, 90 * DAY) / HOUR
    f["gap_mean_h"] = (_count(su[ok], n, gaps[ok]) / np.maximum(_count(su[ok], n), 1)) / HOUR
    f["orders_max_1h"] = _gmax(u, _near_count(u, t, HOUR) + 1, n)
    last_act = np.fmax(created, last)
    for rel_type, ent in (("USED_DEVICE", "dev"), ("USED_IP", "ip")):
        s, d, te = _edges(g, rel_type)
        n_ent = g.node_count(schema.rel(rel_type).target)
        f[f"{ent}s"] = _count(s, n)
        f.update(_windows(f"{ent}s_new", s, te, n, t_cut))
        f[f"days_since_new_{ent}"] = (t_cut - _gmax(s, te, n, np.nan)) / DAY
        f[f"days_since_new_{ent}"] = np.where(np.isnan(f[f"days_since_new_{ent}"]),
                                              f["age_days"], f[f"days_since_new_{ent}"])
        users_on = _count(d, n_ent)[d]
        f[f"{ent}_users_max"] = _gmax(s, users_on, n)
        f[f"{ent}_users_mean"] = _count(s, n, users_on) / np.maximum(f[f"{ent}s"], 1)
        # Others who started using one of my devices/IPs within a day of me: rings arrive together.
        f[f"{ent}_coarrivals_24h_max"] = _gmax(s, _near_count(d, te, DAY, DAY), n)
        f[f"{ent}_link_after_signup_min_h"] = _gmin(
            s, (te - created[s]).clip(0) / HOUR, n, 0.0)
        last_act = np.fmax(last_act, _gmax(s, te, n, np.nan))
    for ent, label in (("addr", "Address"), ("pay", "PaymentMethod")):
        e = o[label]
        ok = has & (e >= 0)
        pu, pe = _distinct_pairs(o["user"][ok], e[ok])
        users_on = _count(pe, g.node_count(label))[pe]
        f[f"{ent}s"] = _count(pu, n)
        f[f"{ent}_users_max"] = _gmax(pu, users_on, n)
    frame = g.nodes["User"]
    for col in ("country", "email_domain"):
        f[f"{col}_freq"] = _freq(frame[col]) if col in frame else np.ones(n)
    return f, np.where(np.isnan(last_act), t_cut, last_act)


def _order_features(g: GraphFrames, o: dict, t_cut: int) -> tuple[dict, np.ndarray]:
    n = g.node_count("Order")
    t, amt, u = o["t"], o["amount"], o["user"]
    hour = (t % DAY) / HOUR
    f: dict[str, np.ndarray] = {"amount": amt, "hour_sin": np.sin(2 * np.pi * hour / 24),
                                "hour_cos": np.cos(2 * np.pi * hour / 24),
                                "age_days": (t_cut - t).clip(0) / DAY}
    created = _node_time(g, "User")
    u_created = np.where(u >= 0, created[np.maximum(u, 0)], np.nan)
    f["user_age_at_order_h"] = np.nan_to_num((t - u_created).clip(0) / HOUR)
    order = np.lexsort((t, u))
    rank = np.empty(n)
    su = u[order]
    start = _group_starts(su)
    grp_start = np.maximum.accumulate(np.where(start, np.arange(n), 0)) if n else start
    rank[order] = np.arange(n) - grp_start
    st = t[order]
    gap = np.where(start, np.nan, np.diff(st, prepend=st[:1]).astype(np.float64))
    gap_full = np.empty(n)
    gap_full[order] = gap
    f["user_prior_orders"] = rank
    f["gap_prev_order_h"] = np.where(np.isnan(gap_full), f["user_age_at_order_h"] * HOUR,
                                     gap_full) / HOUR
    grp = np.where(u >= 0, u, -1 - np.arange(n))  # orders without a user share nothing
    grp = grp - grp.min(initial=0)
    for name, w in (("1h", HOUR), ("24h", DAY)):
        f[f"user_orders_prior_{name}"] = _near_count(grp, t, w)
    s, _, _ = _edges(g, "CONTAINS")
    items = g.rels["CONTAINS"]
    qty = _num(items["quantity"], 1) if "quantity" in items else np.ones(len(s))
    price = _num(items["price"], 0) if "price" in items else np.zeros(len(s))
    f["items"] = _count(s, n)
    f["quantity"] = _count(s, n, qty)
    f["item_price_max"] = _gmax(s, price.clip(0), n)
    for label, ent in (("Device", "dev"), ("IP", "ip"), ("Address", "addr"),
                       ("PaymentMethod", "pay")):
        e = o[label]
        ok = e >= 0
        n_ent = g.node_count(label)
        f[f"has_{ent}"] = ok.astype(np.float64)
        pu, pe = _distinct_pairs(u[ok & (u >= 0)], e[ok & (u >= 0)])
        users = _count(pe, n_ent)
        f[f"{ent}_users"] = _take(users, e, ok, 0.0)
        for name, w in (("1h", HOUR), ("24h", DAY)):
            near = np.zeros(n)
            near[ok] = _near_count(e[ok], t[ok], w)
            f[f"{ent}_orders_prior_{name}"] = near
        first = _node_time(g, label)
        age = np.where(ok, t - _take(first, e, ok, 0.0), np.nan)
        f[f"{ent}_age_at_order_h"] = np.nan_to_num(age.clip(0) / HOUR)
    return f, t.astype(np.int64)


def _take(values: np.ndarray, index: np.ndarray, ok: np.ndarray, fill: float) -> np.ndarray:
    """``values[index]`` where ``ok``, ``fill`` elsewhere (safe when ``values`` is empty)."""
    out = np.full(len(index), fill, dtype=np.float64)
    out[ok] = values[index[ok]]
    return out


def _entity_features(g: GraphFrames, label: str, o: dict, t_cut: int) -> tuple[dict, np.ndarray]:
    """Devices, IPs, addresses, cards and products: who uses them, how fast, how recently."""
    n = g.node_count(label)
    first = _node_time(g, label)
    f: dict[str, np.ndarray] = {}
    if schema.node(label).time:
        f["age_days"] = np.where(np.isnan(first), 0, t_cut - first).clip(0) / DAY
    created = _node_time(g, "User")
    last = np.full(n, np.nan)
    link_rel = {"Device": "USED_DEVICE", "IP": "USED_IP"}.get(label)
    if label == "Product":
        s, d, te = _edges(g, "CONTAINS")
        ou = o["user"][s]
        links_u, links_e, links_t = ou[ou >= 0], d[ou >= 0], te[ou >= 0]
        ord_e, ord_t, ord_amt = d, te, o["amount"][s]
        price = g.nodes["Product"].get("price")
        f["price"] = _num(price, 0).clip(0) if price is not None else np.zeros(n)
    else:
        e = o[label]
        ok = e >= 0
        ord_e, ord_t, ord_amt = e[ok], o["t"][ok], o["amount"][ok]
        if link_rel:
            links_u, links_e, links_t = _edges(g, link_rel)
        else:
            ok &= o["user"] >= 0
            frame = pd.DataFrame({"u": o["user"][ok], "e": e[ok], "t": o["t"][ok]})
            firsts = frame.groupby(["u", "e"], sort=False)["t"].min().reset_index()
            links_u, links_e, links_t = (firsts["u"].to_numpy(), firsts["e"].to_numpy(),
                                         firsts["t"].to_numpy(np.int64))
    f["users"] = _count(links_e, n)
    f.update(_windows("users_new", links_e, links_t, n, t_cut))
    delay = (links_t - np.nan_to_num(created[links_u], nan=0)).clip(0) / HOUR
    f["fresh_user_share"] = _count(links_e, n, (delay < 24).astype(np.float64)) / np.maximum(
        f["users"], 1)
    f["link_after_signup_min_h"] = _gmin(links_e, delay, n, 0.0)
    f["coarrivals_24h_max"] = _gmax(links_e, _near_count(links_e, links_t, DAY, DAY), n)
    f["orders"] = _count(ord_e, n)
    f.update(_windows("orders", ord_e, ord_t, n, t_cut))
    f["amount_sum"] = _count(ord_e, n, ord_amt)
    f["amount_mean"] = f["amount_sum"] / np.maximum(f["orders"], 1)
    f["orders_max_1h"] = _gmax(ord_e, _near_count(ord_e, ord_t, HOUR) + 1, n)
    f["orders_per_user"] = f["orders"] / np.maximum(f["users"], 1)
    frame = g.nodes[label]
    for col in ("os", "browser"):
        if label == "Device":
            f[f"{col}_freq"] = _freq(frame[col]) if col in frame else np.ones(n)
    last = np.fmax(np.fmax(first, _gmax(links_e, links_t, n, np.nan)),
                   _gmax(ord_e, ord_t, n, np.nan))
    return f, np.where(np.isnan(last), t_cut, last).astype(np.int64)


def _finish(f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for name, values in f.items():
        v = np.nan_to_num(np.asarray(values, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        if name not in _RAW and not name.startswith("has_") and not name.endswith("_share") \
                and not name.endswith("_freq"):
            v = np.log1p(v.clip(0))
        out[name] = v.astype(np.float32)
    return out


def build_features(frames: GraphFrames, as_of: int | None = None) -> FeatureSet:
    """Compute point-in-time features of every node label.

    Args:
        frames: the graph (from :func:`graph_build.export.export_frames` or
            :func:`graph_build.to_graph.tables_to_frames`); anything after ``as_of`` in it is
            ignored.
        as_of: cut-off time T in epoch ms (default: ``frames.as_of`` or the latest time).

    Returns:
        A :class:`FeatureSet` whose ``tables[label]`` has one row per node of
        ``result.frames.nodes[label]`` (``[N_label, 1 + F_label]``).
    """
    g = cut_frames(frames, as_of)
    t_cut = int(g.as_of)
    o = _orders(g)
    fs = FeatureSet(frames=g, as_of=t_cut)
    parts = {"User": _user_features(g, o, t_cut), "Order": _order_features(g, o, t_cut)}
    for label in ("Device", "IP", "Address", "PaymentMethod", "Product"):
        parts[label] = _entity_features(g, label, o, t_cut)
    for label, (f, times) in parts.items():
        key = schema.node(label).key
        table = pd.DataFrame(_finish(f))
        table.insert(0, key, g.keys(label).astype(str).to_numpy())
        fs.tables[label] = table
        fs.times[label] = np.asarray(times, np.int64)
    fs.first_times = _first_times(g)
    return fs


def _first_times(g: GraphFrames) -> dict[str, np.ndarray]:
    """Earliest timed relationship of every node, else its own time, else 0."""
    out = {}
    for label in schema.NODES:
        out[label] = np.full(g.node_count(label), np.inf)
    for rel_type in schema.RELATIONSHIPS:
        s, d, t = _edges(g, rel_type)
        spec = schema.rel(rel_type)
        np.minimum.at(out[spec.source], s, t.astype(np.float64))
        np.minimum.at(out[spec.target], d, t.astype(np.float64))
    for label, first in out.items():
        own = _node_time(g, label)
        first = np.where(np.isfinite(first), first, own)
        out[label] = np.nan_to_num(first, nan=0.0).astype(np.int64)
    return out
