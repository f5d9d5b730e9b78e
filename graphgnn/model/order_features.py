"""Order features, each as of the order's own time (nothing after the order counts).

Also :func:`order_table`, the per-order view (user, time, amount and the device/IP/address/card
it used) the other feature modules share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build.frames import GraphFrames
from graphgnn.model.pit import (
    DAY,
    HOUR,
    _count,
    _edges,
    _gmax,
    _group_starts,
    _near_count,
    _node_time,
    _num,
)


def order_table(g: GraphFrames) -> dict[str, np.ndarray]:
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


def order_features(g: GraphFrames, o: dict, t_cut: int) -> tuple[dict, np.ndarray]:
    n = g.node_count("Order")
    t, amt, u = o["t"], o["amount"], o["user"]
    hour = (t % DAY) / HOUR
    f: dict[str, np.ndarray] = {"amount": amt, "hour_sin": np.sin(2 * np.pi * hour / 24),
                                "hour_cos": np.cos(2 * np.pi * hour / 24)}
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
        f[f"has_{ent}"] = ok.astype(np.float64)
        f[f"{ent}_users"] = _prior_users(u, e, t, ok & (u >= 0))
        for name, w in (("1h", HOUR), ("24h", DAY)):
            near = np.zeros(n)
            near[ok] = _near_count(e[ok], t[ok], w)
            f[f"{ent}_orders_prior_{name}"] = near
        first = _node_time(g, label)
        age = np.where(ok, t - _take(first, e, ok, 0.0), np.nan)
        f[f"{ent}_age_at_order_h"] = np.nan_to_num(age.clip(0) / HOUR)
    return f, t.astype(np.int64)


def _prior_users(u: np.ndarray, e: np.ndarray, t: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per order: distinct users who had used its entity ``e`` by the order's time (itself
    included), from the first time each (user, entity) pair appears."""
    out = np.zeros(len(u))
    if not ok.any():
        return out
    frame = pd.DataFrame({"u": u[ok], "e": e[ok], "t": t[ok]})
    first = frame.groupby(["u", "e"], sort=False)["t"].min().reset_index()
    t0 = int(min(first["t"].min(), t[ok].min()))
    span = int(max(first["t"].max(), t[ok].max()) - t0) + 2
    keys = np.sort(first["e"].to_numpy(np.int64) * span + (first["t"].to_numpy(np.int64) - t0))
    q = e[ok].astype(np.int64) * span
    hi = np.searchsorted(keys, q + (t[ok] - t0), side="right")
    lo = np.searchsorted(keys, q, side="left")
    out[ok] = hi - lo
    return out


def _take(values: np.ndarray, index: np.ndarray, ok: np.ndarray, fill: float) -> np.ndarray:
    """``values[index]`` where ``ok``, ``fill`` elsewhere (safe when ``values`` is empty)."""
    out = np.full(len(index), fill, dtype=np.float64)
    out[ok] = values[index[ok]]
    return out
