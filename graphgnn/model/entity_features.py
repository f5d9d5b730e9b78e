"""Features of devices, IPs, addresses, cards and products as of T: who uses them, how fast,
how recently."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build import schema
from graph_build.frames import GraphFrames
from graphgnn.model.pit import (
    DAY,
    HOUR,
    _count,
    _edges,
    _freq,
    _gmax,
    _gmin,
    _near_count,
    _node_time,
    _num,
    _windows,
)


def entity_features(g: GraphFrames, label: str, o: dict, t_cut: int) -> tuple[dict, np.ndarray]:
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
