"""A new order's features, and those of the nodes it touches, from the cached history.

The batch feature code (:mod:`graphgnn.model.features`, ``order_features``,
``entity_features``, ``context``) run on the cached graph plus one order gives, for the order
and for its user, device, IP, address, card and products, values that depend only on those
nodes' own event streams. The order comes at or after every cached event, so each value is the
cached stream's aggregate plus the order's contribution: the same formulas, on
:class:`~graphgnn.api.history.History`'s sorted streams, O(log degree) per node. A test
compares every column with the batch code on the merged graph
(``tests/graphgnn/api/test_fast_features.py``).

Taken from the cache (stale by this one order, as documented in :mod:`graphgnn.api.fast_order`):
population shares (``*_freq``) of existing nodes, the co-user context columns of an existing
user, and ``attr_*`` columns. A new node's shares are computed against the cached population.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graphgnn.api.history import History
from graphgnn.model.pit import DAY, HOUR, WINDOWS

Node = tuple[str, str]
KIND = {"Device": "dev", "IP": "ip", "Address": "addr", "PaymentMethod": "pay"}


@dataclass
class NewOrder:
    """One order as the build's mapping would add it (keys, time, amount, lines)."""

    key: str
    user: str
    t: int
    amount: float
    entities: dict[str, str]  # label -> key (Device, IP, Address, PaymentMethod given)
    lines: list[tuple[str, float, float]]  # (product, quantity, price), one per product
    user_created: float = np.nan  # a new user's creation time
    user_props: dict[str, object] = field(default_factory=dict)  # a new user's country …

    def touched(self) -> list[Node]:
        out: list[Node] = [("User", self.user)]
        out += [(label, key) for label, key in self.entities.items()]
        return out + [("Product", p) for p, _, _ in self.lines]


@dataclass
class Rows:
    """Cached rows (None: new) of the order's user, entities and products."""

    user: int | None
    ent: dict[str, int | None]
    prods: list[int | None]


def _nan_to_num(v: float) -> float:
    """``np.nan_to_num(v)`` of one number without the array round trip (~5 us)."""
    if v != v:
        return 0.0
    if v in (np.inf, -np.inf):
        return float(np.nan_to_num(v))
    return v


def _win(times: np.ndarray, T: int, weights: np.ndarray | None = None) -> dict[str, float]:
    # count_nonzero / add.reduce: what np.sum computes here, without its Python wrapper.
    if weights is None:
        return {name: float(np.count_nonzero(times > T - w)) for name, w in WINDOWS.items()}
    return {name: float(np.add.reduce(weights[times > T - w])) for name, w in WINDOWS.items()}


def _user_orders(h: History, u: int | None) -> np.ndarray:
    lo, hi = h.orders["user"].bounds(u)
    return h.orders["user"].ids[lo:hi]


def order_raw(h: History, req: NewOrder, rows: Rows) -> dict[str, float]:
    """The order's own features (order_features + the order half of add_context), raw."""
    t, a = req.t, max(req.amount, 0.0) if np.isfinite(req.amount) else 0.0
    hour = (t % DAY) / HOUR
    f = {"amount": a, "hour_sin": np.sin(2 * np.pi * hour / 24),
         "hour_cos": np.cos(2 * np.pi * hour / 24)}
    created = h.node_time["User"][rows.user] if rows.user is not None else req.user_created
    # (finite created: nan_to_num of a finite number is the number itself)
    age_h = float(max(t - created, 0) / HOUR) if np.isfinite(created) else 0.0
    f["user_age_at_order_h"] = age_h
    mine = _user_orders(h, rows.user)
    ts = h.o["t"][mine]
    tie = (ts == t) & (h.order_keys[mine] < req.key)
    rank = int(np.sum(ts < t) + np.sum(tie))
    f["user_prior_orders"] = rank
    prev = t if tie.any() else (ts[ts < t].max() if (ts < t).any() else None)
    f["gap_prev_order_h"] = age_h if rank == 0 else (t - prev) / HOUR
    for name, w in (("1h", HOUR), ("24h", DAY)):
        f[f"user_orders_prior_{name}"] = float(np.sum(ts >= t - w))
    qty = [q if np.isfinite(q) else 1.0 for _, q, _ in req.lines]
    price = [max(p, 0.0) if np.isfinite(p) else 0.0 for _, _, p in req.lines]
    f["items"], f["quantity"] = float(len(req.lines)), float(sum(qty))
    f["item_price_max"] = max(price) if price else 0.0
    for label, ent in KIND.items():
        e = rows.ent.get(label, -1) if label in req.entities else -1
        has = label in req.entities
        f[f"has_{ent}"] = float(has)
        st = h.orders[label]
        lo, hi = st.bounds(e)
        if not has:
            f.update({f"{ent}_users": 0.0, f"{ent}_orders_prior_1h": 0.0,
                      f"{ent}_orders_prior_24h": 0.0, f"{ent}_age_at_order_h": 0.0})
            continue
        mine_here = bool(np.any(h.o[label][mine] == e)) if e is not None and e >= 0 else False
        known = h.order_users[label][e] if e is not None and e >= 0 else 0
        f[f"{ent}_users"] = float(known + (not mine_here))
        before = st.count_many(lo, hi, [t - HOUR, t - DAY])
        f[f"{ent}_orders_prior_1h"] = float(hi - lo - before[0])
        f[f"{ent}_orders_prior_24h"] = float(hi - lo - before[1])
        first = h.node_time[label][e] if e is not None and e >= 0 else float(t)
        first = min(first, t) if np.isfinite(first) else first
        f[f"{ent}_age_at_order_h"] = float(max(t - first, 0) / HOUR) \
            if np.isfinite(first) else 0.0
    f.update(_order_context(h, req, rows, mine))
    return f


def _order_context(h: History, req: NewOrder, rows: Rows, mine: np.ndarray) -> dict:
    t = req.t
    log_amt = float(np.log1p(max(req.amount, 0.0)))
    first_prod = min(range(len(req.lines)), key=lambda i: req.lines[i][0], default=None)
    groups = {"user": ("user", rows.user), "prod": ("prod", None if first_prod is None
                                                   else rows.prods[first_prod])}
    for label, ent in KIND.items():
        groups[ent] = (label, rows.ent.get(label) if label in req.entities else None)
    present = {"user": True, "prod": first_prod is not None,
               **{ent: label in req.entities for label, ent in KIND.items()}}
    f: dict[str, float] = {}
    for name in ("user", "dev", "ip", "addr", "pay", "prod"):
        stream_name, row = groups[name]
        st = h.orders[stream_name]
        lo, hi = st.bounds(row)
        n = st.count_before(lo, hi, t)
        mean = st.range_sum("log_amount", lo, lo + n) / max(n, 1)
        f[f"{name}_prior_orders_all"] = float(n)
        f[f"{name}_prior_amount_mean"] = float(np.expm1(mean)) if n else 0.0
        f[f"{name}_amount_dev"] = log_amt - mean if n else 0.0
        f[f"{name}_gap_h"] = (t - st.t[lo + n - 1]) / 3_600_000 if n else 1e5
        if name == "user":
            continue
        col = h.prod if name == "prod" else h.o[stream_name]
        own = mine[(col[mine] == (row if row is not None else -2)) & (h.o["t"][mine] < t)]
        for lab in ("fraud", "labelled"):
            other = st.range_sum(lab, lo, lo + n) - float(getattr(h, lab)[own].sum())
            f[f"{name}_prior_{lab}"] = other if present[name] else 0.0
        f[f"{name}_prior_fraud_share"] = f[f"{name}_prior_fraud"] / max(
            f[f"{name}_prior_labelled"], 1)
    return f


def _share(h: History, label: str, column: str, value) -> float:
    counts = h.value_counts.get((label, column))
    if counts is None:  # the column is absent: _freq is then 1 for every node
        return 1.0
    v = "<na>" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    n = sum(counts.values())
    return (counts.get(v, 0) + 1) / (n + 1)


def user_raw(h: History, req: NewOrder, rows: Rows, T: int) -> dict[str, float]:
    """The user's base features (``_user_features``) with the order added, raw."""
    u, t = rows.user, req.t
    created = h.node_time["User"][u] if u is not None else req.user_created
    created = T if not np.isfinite(created) else created
    f: dict[str, float] = {"age_days": max(T - created, 0) / DAY}
    mine = _user_orders(h, u)
    times = np.append(h.o["t"][mine], t).astype(np.int64)
    amts = np.append(h.o["amount"][mine], max(req.amount, 0.0))
    n = len(times)
    f["orders"] = float(n)
    f.update({f"orders_{k}": v for k, v in _win(times, T).items()})
    f["amount_sum"] = float(amts.sum())
    f.update({f"amount_{k}": v for k, v in _win(times, T, amts).items()})
    f["amount_mean"] = f["amount_sum"] / n
    f["amount_max"] = float(amts.max())
    f["has_order"] = 1.0
    f["days_since_last_order"] = (T - times.max()) / DAY
    f["signup_to_first_order_h"] = max(times.min() - created, 0) / HOUR
    st = np.sort(times)
    gaps = np.diff(st)
    f["gap_min_h"] = (gaps.min() if len(gaps) else 90 * DAY) / HOUR
    f["gap_mean_h"] = (gaps.sum() / max(len(gaps), 1)) / HOUR
    near = np.searchsorted(st, st, "right") - np.searchsorted(st, st - HOUR, "left") - 1
    f["orders_max_1h"] = float(near.max() + 1)
    for label, ent in (("Device", "dev"), ("IP", "ip")):
        f.update(_user_links(h, req, rows, label, ent, T, created, f["age_days"]))
    for label, ent in (("Address", "addr"), ("PaymentMethod", "pay")):
        ents = set(int(e) for e in h.o[label][mine] if e >= 0)
        users = [float(h.order_users[label][e]) for e in ents]
        if label in req.entities:
            e = rows.ent.get(label)
            if e is None:
                users.append(1.0)
            elif e not in ents:
                users.append(float(h.order_users[label][e] + 1))
        f[f"{ent}s"] = float(len(users))
        f[f"{ent}_users_max"] = max(users, default=0.0)
    if u is None:  # an existing user's shares: the cache's (no user is added)
        for col in ("country", "email_domain"):
            f[f"{col}_freq"] = _share(h, "User", col, req.user_props.get(col))
    return f


def _user_links(h: History, req: NewOrder, rows: Rows, label: str, ent: str, T: int,
                created: float, age_days: float) -> dict[str, float]:
    links = h.links[label]
    lo, hi = links.by_u.bounds(rows.user)
    ids = links.by_u.ids[lo:hi]
    e, te, near = links.e[ids], links.t[ids].astype(np.float64), links.near[ids]
    users_on = np.diff(links.by_e.indptr)[e].astype(np.float64)
    if label in req.entities:
        row = rows.ent.get(label)
        if row is None or not np.any(e == row):  # a new link: the order's time
            elo, ehi = links.by_e.bounds(row)
            own = ehi - elo - links.by_e.count_before(elo, ehi, req.t - DAY)
            te, near = np.append(te, req.t), np.append(near, own)
            users_on = np.append(users_on, ehi - elo + 1)
    n = len(te)
    f = {f"{ent}s": float(n)}
    f.update({f"{ent}s_new_{k}": v for k, v in _win(te, T).items()})
    f[f"days_since_new_{ent}"] = (T - te.max()) / DAY if n else age_days
    f[f"{ent}_users_max"] = float(users_on.max()) if n else 0.0
    f[f"{ent}_users_mean"] = float(users_on.sum()) / max(n, 1)
    f[f"{ent}_coarrivals_24h_max"] = float(near.max()) if n else 0.0
    f[f"{ent}_link_after_signup_min_h"] = float(((te - created).clip(0) / HOUR).min()) \
        if n else 0.0
    return f


def entity_raw(h: History, req: NewOrder, rows: Rows, label: str, row: int | None,
               key: str, T: int) -> dict[str, float]:
    """An entity's features (``entity_features``) with the order added, raw."""
    t = req.t
    f: dict[str, float] = {}
    if label != "Product":
        first = h.node_time[label][row] if row is not None else float(t)
        first = min(first, t) if np.isfinite(first) else first
        f["age_days"] = max(T - first, 0) / DAY if np.isfinite(first) else 0.0
    links = h.links[label]
    lo, hi = links.by_e.bounds(row)
    if label == "Product":
        new_link = True
    elif label in ("Device", "IP"):
        new_link = rows.user is None or row is None or not np.any(
            links.e[links.by_u.ids[slice(*links.by_u.bounds(rows.user))]] == row)
    else:
        mine = _user_orders(h, rows.user)
        new_link = row is None or not np.any(h.o[label][mine] == row)
    created_u = h.node_time["User"][rows.user] if rows.user is not None else req.user_created
    delay = max(t - _nan_to_num(created_u), 0) / HOUR
    users = hi - lo + new_link
    f["users"] = float(users)
    old = links.by_e.count_many(lo, hi, [T - w for w in WINDOWS.values()], "right")
    for (name, w), n_old in zip(WINDOWS.items(), old, strict=True):
        f[f"users_new_{name}"] = float(hi - lo - n_old + (new_link and t > T - w))
    fresh = links.by_e.range_sum("fresh", lo, hi) + (new_link and delay < 24)
    f["fresh_user_share"] = fresh / max(users, 1)
    low = links.min_delay[row] if row is not None else np.inf
    low = min(low, delay) if new_link else low
    f["link_after_signup_min_h"] = float(low) if np.isfinite(low) else 0.0
    k = lo + links.by_e.count_before(lo, hi, t - DAY)
    best = max(links.by_e.range_max("near", lo, hi, lo, k),
               links.by_e.range_max("near", lo, hi, k, hi) + new_link,
               float(hi - k) if new_link else -np.inf)
    f["coarrivals_24h_max"] = best if np.isfinite(best) else 0.0
    st = h.lines if label == "Product" else h.orders[label]
    lo, hi = st.bounds(row)
    f["orders"] = float(hi - lo + 1)
    old = st.count_many(lo, hi, [T - w for w in WINDOWS.values()], "right")
    for (name, w), n_old in zip(WINDOWS.items(), old, strict=True):
        f[f"orders_{name}"] = float(hi - lo - n_old + (t > T - w))
    f["amount_sum"] = st.range_sum("amount", lo, hi) + max(req.amount, 0.0)
    f["amount_mean"] = f["amount_sum"] / f["orders"]
    at, hour = st.count_many(lo, hi, [t, t - HOUR])
    k, own = lo + int(at), hi - lo - int(hour)
    best = max(st.range_max("near_1h", lo, hi, lo, k),
               st.range_max("near_1h", lo, hi, k, hi) + 1, float(own))
    f["orders_max_1h"] = best + 1
    f["orders_per_user"] = f["orders"] / max(users, 1)
    if label == "Product":
        f["price"] = max(float(h.prices[row]), 0.0) if row is not None else 0.0
        f["price"] = 0.0 if not np.isfinite(f["price"]) else f["price"]
    if label == "Device" and row is None:  # a request carries no device attributes
        for col in ("os", "browser"):
            f[f"{col}_freq"] = _share(h, "Device", col, None)
    return f
