"""A new user's co-user context columns (:func:`graphgnn.model.context._user_context`) from the
cached links: the users already on the order's device, IP, address and card.

A new user's links are the order's own (all at the order's time); an entity used by
``2 .. MAX_SHARED`` users after the order joins it to each of its other users. Per co-user
``b``: whether a link pair arrived within 24 h, which kinds they share, ``b``'s known label,
``b``'s own ``co_fraud`` and its base features (the cached rows, as of the cache).
"""

from __future__ import annotations

import numpy as np

from graphgnn.api.order_features_fast import NewOrder, Rows
from graphgnn.api.snapshot_cache import CachedState
from graphgnn.model.context import MAX_SHARED
from graphgnn.model.pit import DAY

_KINDS = (("Device", "dev"), ("IP", "ip"), ("Address", "addr"), ("PaymentMethod", "pay"))


def new_user_context(state: CachedState, scorer, req: NewOrder,
                     rows: Rows) -> tuple[dict[str, float], list[int]]:
    """(raw ``co_*`` columns, co-user rows) of the order's new user."""
    h = state.history
    pairs: dict[int, dict[str, float]] = {}
    for label, kind in _KINDS:
        row = rows.ent.get(label) if label in req.entities else None
        if label not in req.entities:
            continue
        links = h.links[label]
        lo, hi = links.by_e.bounds(row)
        if not 2 <= hi - lo + 1 <= MAX_SHARED:
            continue
        ids = links.by_e.ids[lo:hi]
        for b, tb in zip(links.u[ids], links.t[ids], strict=True):
            p = pairs.setdefault(int(b), {"near": 0.0, "dev": 0.0, "ip": 0.0, "addr": 0.0,
                                          "pay": 0.0})
            p["near"] = max(p["near"], float(abs(req.t - int(tb)) <= DAY))
            p[kind] = 1.0
    names = scorer.feature_names["User"]
    base = [n for n in names if f"co_mean_{n}" in names]
    col = {n: i for i, n in enumerate(names)}
    co = sorted(pairs)
    n = len(co)
    f: dict[str, float] = {"co_users": float(n)}
    for k in ("near", "dev", "ip", "addr", "pay"):
        f[f"co_users_{k}"] = float(sum(pairs[b][k] for b in co))
    fraud = float(h.user_fraud[co].sum()) if n else 0.0
    labelled = float(h.user_labelled[co].sum()) if n else 0.0
    f["co_fraud"], f["co_labelled"] = fraud, labelled
    f["co_fraud_share"] = fraud / max(n, 1)
    f["co_fraud_of_labelled_share"] = fraud / max(labelled, 1)
    raw = state.out.raw["User"]
    x = raw[co].numpy().astype(np.float64) if n else np.zeros((0, len(names)))
    # The co-users' own co_fraud (finished: log1p) back to a count; the new user is no fraud.
    f["co2_fraud"] = float(np.expm1(x[:, col["co_fraud"]]).sum()) if n and "co_fraud" in col \
        else 0.0
    for name in base:
        v = x[:, col[name]] if n else np.zeros(0)
        f[f"co_mean_{name}"] = float(v.sum() / max(n, 1))
        f[f"co_max_{name}"] = float(v.max()) if n else 0.0
    return f, co


def co_user_updates(state: CachedState, scorer, user_row: int | None,
                    user_raw: np.ndarray) -> dict[int, np.ndarray]:
    """An existing user's co-users with their ``co_mean_*`` / ``co_max_*`` columns recomputed
    for the user's new features (they aggregate their co-users' base features, the user's
    among them): user row -> raw vector. Their other columns do not move with the order."""
    if user_row is None:
        return {}
    from graphgnn.model.hetero import CO_USER

    data = state.out.data
    if CO_USER not in data.edge_types:
        return {}
    csr = state.in_edges[CO_USER]
    src = data[CO_USER].edge_index[0].numpy()
    names = scorer.feature_names["User"]
    col = {n: i for i, n in enumerate(names)}
    base = [col[n] for n in names if f"co_mean_{n}" in col]
    means = [col[f"co_mean_{names[i]}"] for i in base]
    maxes = [col[f"co_max_{names[i]}"] for i in base]
    raw = state.out.raw["User"]
    out: dict[int, np.ndarray] = {}
    mine = src[csr[1][csr[0][user_row]:csr[0][user_row + 1]]]
    for b in np.unique(mine):
        theirs = src[csr[1][csr[0][b]:csr[0][b + 1]]]  # b's co-users (the user among them)
        x = raw[theirs].numpy()[:, base].astype(np.float64)
        x[theirs == user_row] = user_raw[base]
        v = raw[int(b)].numpy().copy()
        v[means] = (x.sum(0) / max(len(theirs), 1)).astype(np.float32)
        v[maxes] = x.max(0).astype(np.float32)
        out[int(b)] = v
    return out
