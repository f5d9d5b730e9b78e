"""Point-in-time node features: what the graph says about every node as of a time T.

Everything here is computed from :class:`~graph_build.frames.GraphFrames` cut at T
(:func:`graphgnn.model.pit.cut_frames`), so a feature can only move when something at or before
T changes. Orders are described as of *their own time*: every order feature counts only what
happened before the order (prior orders, prior users of its device/IP/address/card), so an
order's row is the same whatever later snapshot it is read from.

Columns of a node table beyond the schema's properties (the users' own typed attributes a
mapping carries) become ``attr_*`` features without code changes: numbers as signed
``log1p``, booleans as 0/1, text as the share of nodes with the same value (rare values share
one "other" bucket), times as their age in days at T.

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
from graphgnn.model.pit import (  # noqa: F401  (re-exported: the feature API)
    DAY,
    HOUR,
    WINDOWS,
    _count,
    _distinct_pairs,
    _edges,
    _freq,
    _gmax,
    _gmin,
    _group_starts,
    _near_count,
    _node_time,
    _num,
    _windows,
    cut_frames,
    max_time,
)
from graphgnn.model.entity_features import entity_features
from graphgnn.model.order_features import order_features, order_table

#: Bumped whenever a feature's meaning changes: checkpoints and caches record it.
FEATURE_VERSION = "pit-2"
# Columns kept raw (already bounded); everything else is a non-negative count/duration -> log1p.
_RAW = ("hour_sin", "hour_cos")
ATTR_PREFIX = "attr_"
# Already on a useful scale (log-transformed inputs, signed deviations): no log1p on top.
_RAW_PREFIXES = ("has_", ATTR_PREFIX, "co_mean_", "co_max_")
_RAW_SUFFIXES = ("_share", "_freq", "_dev")
RARE_SHARE = 0.001  # attribute values rarer than this share one "other" bucket


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
        co_users: ``(a, b, t)`` user-row pairs sharing a non-hub entity and when the link
            appeared (set by :func:`graphgnn.model.context.add_context`), else None.
    """

    frames: GraphFrames
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    times: dict[str, np.ndarray] = field(default_factory=dict)
    first_times: dict[str, np.ndarray] = field(default_factory=dict)
    as_of: int = 0
    co_users: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def names(self) -> dict[str, list[str]]:
        """Feature column names per label (key column excluded)."""
        return {label: [c for c in t.columns if c != schema.node(label).key]
                for label, t in self.tables.items()}


# -- per-label features ----------------------------------------------------------------------
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


def _attributes(g: GraphFrames, label: str) -> dict[str, np.ndarray]:
    """``attr_*`` features from the columns of ``label`` the schema does not know."""
    spec = schema.node(label)
    frame = g.nodes[label]
    known = {spec.key, *spec.properties, "times"}
    out: dict[str, np.ndarray] = {}
    for col in sorted(c for c in frame.columns if c not in known):
        values = frame[col]
        name = col if col.startswith(ATTR_PREFIX) else f"{ATTR_PREFIX}{col}"
        if pd.api.types.is_bool_dtype(values):
            out[name] = values.astype("float64").fillna(0.0).to_numpy()
        elif pd.api.types.is_integer_dtype(values):  # time attributes: Int64 epoch ms
            v = _num(values, np.nan)
            out[f"{name}_age_days"] = np.nan_to_num((int(g.as_of or 0) - v) / DAY, nan=0.0)
        elif pd.api.types.is_numeric_dtype(values):
            v = _num(values, 0.0)
            out[name] = np.sign(v) * np.log1p(np.abs(v))
        else:
            text = values.astype("string").fillna("<na>")
            share = text.map(text.value_counts(normalize=True)).to_numpy(np.float64)
            out[f"{name}_freq"] = np.where(share < RARE_SHARE, 0.0, share)
    return out


def _finish(f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for name, values in f.items():
        v = np.nan_to_num(np.asarray(values, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        if name not in _RAW and not name.startswith(_RAW_PREFIXES) \
                and not name.endswith(_RAW_SUFFIXES):
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
    o = order_table(g)
    fs = FeatureSet(frames=g, as_of=t_cut)
    parts = {"User": _user_features(g, o, t_cut), "Order": order_features(g, o, t_cut)}
    for label in ("Device", "IP", "Address", "PaymentMethod", "Product"):
        parts[label] = entity_features(g, label, o, t_cut)
    for label, (f, times) in parts.items():
        f.update(_attributes(g, label))
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
