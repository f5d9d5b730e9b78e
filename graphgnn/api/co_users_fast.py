"""The user's co-user context (:func:`graphgnn.model.context._user_context`) with the order
added, and what the order changes for the user's co-users, from the cached links.

Co-users are the other users of the user's devices, IPs, addresses and cards that at most
``MAX_SHARED`` users share. The order links the user to its own entities (at the order's
time, where the pair is new), which can make new pairs. Per pair: whether two links arrived
within 24 h and which kinds are shared. The user's columns are computed from scratch over its
pairs; each co-user ``b``'s pair-level columns (counts, kinds, known labels, shares, ``co2``)
move by the difference the order makes to its pair with the user, and its ``co_mean_*`` /
``co_max_*`` are recomputed with the user's new base features. Not followed: ``b``'s own base
features (``b``'s device gaining the user moves its ``dev_users_max``), and an entity the
order turns into a hub (its other pairs would go).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from graphgnn.api.order_features_fast import NewOrder, Rows  # noqa: F401 (types)
from graphgnn.api.snapshot_cache import CachedState
from graphgnn.model.context import MAX_SHARED
from graphgnn.model.features import _RAW, _RAW_PREFIXES, _RAW_SUFFIXES
from graphgnn.model.pit import DAY

_KINDS = (("Device", "dev"), ("IP", "ip"), ("Address", "addr"), ("PaymentMethod", "pay"))
_FLAGS = ("near", "dev", "ip", "addr", "pay")
Pairs = dict[int, dict[str, float]]


def _logged(name: str) -> bool:
    """Whether ``_finish`` stores the column as ``log1p`` (else as it is)."""
    return name not in _RAW and not name.startswith(_RAW_PREFIXES) \
        and not name.endswith(_RAW_SUFFIXES)


def unfinish(name: str, value: float) -> float:
    """A finished column's value back to the raw feature (inverse of ``_finish``)."""
    return float(np.expm1(value)) if _logged(name) else float(value)


def refinish(name: str, value: float) -> float:
    return float(np.log1p(max(value, 0.0))) if _logged(name) else float(value)


def user_pairs(state: CachedState, req: NewOrder, rows: Rows, with_order: bool) -> Pairs:
    """Co-user row -> pair flags (``near`` and one per kind), with or without the order."""
    h = state.history
    pairs: Pairs = {}
    for label, kind in _KINDS:
        links = h.links[label]
        lo, hi = links.by_u.bounds(rows.user)
        mine = {int(e): int(t) for e, t in zip(links.e[links.by_u.ids[lo:hi]],
                                               links.t[links.by_u.ids[lo:hi]], strict=True)}
        joined = None
        if with_order and label in req.entities:
            e0 = rows.ent.get(label)
            if e0 is None or e0 not in mine:  # a new link, at the order's time
                joined = e0
                if e0 is not None:
                    mine[e0] = req.t
        for e, t_u in mine.items():
            elo, ehi = links.by_e.bounds(e)
            size = ehi - elo + (e == joined)
            if not 2 <= size <= MAX_SHARED:
                continue
            ids = links.by_e.ids[elo:ehi]
            for b, tb in zip(links.u[ids], links.t[ids], strict=True):
                if rows.user is not None and b == rows.user:
                    continue
                p = pairs.setdefault(int(b), dict.fromkeys(_FLAGS, 0.0))
                p["near"] = max(p["near"], float(abs(t_u - int(tb)) <= DAY))
                p[kind] = 1.0
    return pairs


class CoColumns(NamedTuple):
    """Positions and names of the checkpoint's user columns that co-user aggregates read."""

    col: dict[str, int]  # column -> position
    base: list[int]  # the base columns that have co_mean_ / co_max_ columns
    means: list[int]  # their co_mean_ positions
    maxes: list[int]  # their co_max_ positions
    mean_names: list[str]
    max_names: list[str]


def _columns(scorer) -> CoColumns:
    """:class:`CoColumns` of the scorer, kept on it (twice an order, ~20 us each to rebuild)."""
    cached = scorer.__dict__.get("_serve_co_columns")
    if cached is not None:
        return cached
    names = scorer.feature_names["User"]
    col = {n: i for i, n in enumerate(names)}
    base = [col[n] for n in names if f"co_mean_{n}" in col]
    mean_names = [f"co_mean_{names[i]}" for i in base]
    max_names = [f"co_max_{names[i]}" for i in base]
    cached = CoColumns(col, base, [col[n] for n in mean_names], [col[n] for n in max_names],
                       mean_names, max_names)
    scorer.__dict__["_serve_co_columns"] = cached
    return cached


def _rows_of(state: CachedState, users, moved: dict[int, np.ndarray] | None) -> np.ndarray:
    """Raw user vectors of ``users`` (rows), the ones the order moved as moved."""
    x = state.raw_np("User")[np.asarray(users, np.int64)].astype(np.float64)
    for i, b in enumerate(users):
        if moved and int(b) in moved:
            x[i] = moved[int(b)]
    return x


def user_context(state: CachedState, scorer, rows: Rows, after: Pairs, before: Pairs,
                 moved: dict[int, np.ndarray] | None = None) -> dict[str, float]:
    """The user's raw ``co_*`` columns over its pairs ``after`` the order (co-users' base
    features as ``moved`` has them, else as cached)."""
    h = state.history
    cols = _columns(scorer)
    col, base = cols.col, cols.base
    names = scorer.feature_names["User"]
    co = sorted(after)
    n = len(co)
    f: dict[str, float] = {"co_users": float(n)}
    for k in _FLAGS:
        f[f"co_users_{k}"] = float(sum(after[b][k] for b in co))
    fraud = float(h.user_fraud[co].sum()) if n else 0.0
    labelled = float(h.user_labelled[co].sum()) if n else 0.0
    f["co_fraud"], f["co_labelled"] = fraud, labelled
    f["co_fraud_share"] = fraud / max(n, 1)
    f["co_fraud_of_labelled_share"] = fraud / max(labelled, 1)
    x = _rows_of(state, co, moved) if n else np.zeros((0, len(names)))
    own = _fraud(h, rows.user)[0]
    if "co_fraud" in col:  # co-users' co_fraud (finished: log1p), plus this user if new pair
        theirs = np.array([unfinish("co_fraud", v) for v in x[:, col["co_fraud"]]])
        fresh = sum(b not in before for b in co)  # their co_fraud gains this user's label
        f["co2_fraud"] = float(theirs.sum()) + fresh * own - n * own
    mean_names, max_names = cols.mean_names, cols.max_names
    if n:
        # One reduction per row of the transposed block: each row is the column x[:, i]
        # laid out contiguously, reduced by the same pairwise sum as x[:, i].sum().
        block = np.ascontiguousarray(x[:, base].T)
        f.update(zip(mean_names, (block.sum(1) / n).tolist(), strict=True))
        f.update(zip(max_names, block.max(1).tolist(), strict=True))
    else:
        f.update(dict.fromkeys(mean_names, 0.0))
        f.update(dict.fromkeys(max_names, 0.0))
    return f


def _fraud(h, row: int | None) -> tuple[float, float]:
    if row is None:
        return 0.0, 0.0
    return float(h.user_fraud[row]), float(h.user_labelled[row])


def co_user_updates(state: CachedState, scorer, rows: Rows, user_raw: np.ndarray,
                    before: Pairs, after: Pairs,
                    moved: dict[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
    """Co-user row -> its raw vector with the order's changes (see the module docstring),
    starting from ``moved`` (users whose base columns the order moved), which it extends."""
    from graphgnn.model.hetero import CO_USER

    h = state.history
    col, base, means, maxes = _columns(scorer)[:4]
    raw = state.raw_np("User")
    csr = state.in_edges.get(CO_USER)
    src = state.src_np(CO_USER) if csr is not None else np.zeros(0, np.int64)
    fraud_u, lab_u = _fraud(h, rows.user)
    co_fraud_u = sum(h.user_fraud[b] for b in after)
    co_fraud_u0 = sum(h.user_fraud[b] for b in before)
    out: dict[int, np.ndarray] = dict(moved or {})
    for b in sorted(set(before) | set(after)):
        theirs = src[csr[1][csr[0][b]:csr[0][b + 1]]] if csr is not None else src
        v = (out[b] if b in out else raw[b]).astype(np.float64)
        new_pair = b in after and b not in before
        if new_pair:
            theirs = np.append(theirs, -1)  # the user, as a new co-user
        x = _rows_of(state, np.maximum(theirs, 0), moved)[:, base]
        x[(theirs == -1) | ((theirs == rows.user) if rows.user is not None else False)] = \
            user_raw[base]
        v[means] = x.sum(0) / max(len(theirs), 1)
        v[maxes] = x.max(0) if len(theirs) else 0.0
        if b in after:
            old = before.get(b, dict.fromkeys(_FLAGS, 0.0))
            def count(name: str, v=v) -> float:
                return unfinish(name, v[col[name]])

            def put(name: str, value: float, v=v) -> None:
                v[col[name]] = refinish(name, value)

            users = count("co_users") + new_pair
            fraud = count("co_fraud") + new_pair * fraud_u
            lab = count("co_labelled") + new_pair * lab_u
            co2 = (count("co2_fraud") + new_pair * (co_fraud_u - h.user_fraud[b])
                   + (not new_pair) * (co_fraud_u - co_fraud_u0))
            for k in _FLAGS:
                put(f"co_users_{k}", count(f"co_users_{k}") + after[b][k] - old[k])
            put("co_users", users)
            put("co_fraud", fraud)
            put("co_labelled", lab)
            put("co2_fraud", co2)
            put("co_fraud_share", fraud / max(users, 1))
            put("co_fraud_of_labelled_share", fraud / max(lab, 1))
        out[int(b)] = v.astype(np.float32)
    return out


def linked_user_updates(state: CachedState, scorer, req: NewOrder, rows: Rows,
                        vectors: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Add to ``vectors`` (user row -> raw vector) the other users of each entity the order
    links the user to anew, with the base columns that count the entity's users moved: their
    ``<kind>_users_max`` / ``_users_mean`` and 24 h co-arrivals (devices, IPs) or
    ``<kind>_users_max`` (addresses, cards)."""
    h = state.history
    col = _columns(scorer).col
    raw = state.raw_np("User")
    for label, kind in _KINDS:
        e = rows.ent.get(label) if label in req.entities else None
        if e is None or f"{kind}_users_max" not in col:
            continue
        links = h.links[label]
        mine = links.e[links.by_u.ids[slice(*links.by_u.bounds(rows.user))]]
        if np.any(mine == e):
            continue  # not a new link: nobody's counts move
        lo, hi = links.by_e.bounds(e)
        users = hi - lo + 1
        for i in links.by_e.ids[lo:hi]:
            b = int(links.u[i])
            v = vectors.get(b)
            v = raw[b].copy() if v is None else v
            def c(name: str, v=v) -> float:
                return unfinish(name, v[col[name]])

            def put(name: str, value: float, v=v) -> None:
                v[col[name]] = refinish(name, value)

            put(f"{kind}_users_max", max(c(f"{kind}_users_max"), users))
            if kind in ("dev", "ip"):
                put(f"{kind}_users_mean", c(f"{kind}_users_mean") + 1 / max(c(f"{kind}s"), 1.0))
                near = links.near[i] + (int(links.t[i]) >= req.t - DAY)
                name = f"{kind}_coarrivals_24h_max"
                put(name, max(c(name), near))
            vectors[b] = v
    return vectors
