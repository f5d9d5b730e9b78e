"""What the trees have, as inputs of every model: co-users, neighbour aggregates, known labels.

Added to a :class:`~graphgnn.model.features.FeatureSet` (one snapshot at T) by
:func:`add_context`:

- **Users** (as of T): the derived co-user relation — users sharing a device, IP, shipping
  address or card with them (entities used by more than :data:`MAX_SHARED` users are hubs and
  ignored) — reaches through cards and addresses in one hop. Per user:
  co-user counts per kind and within 24 h of each other, the mean and max of the co-users'
  features, and label-aware counts: known-fraud co-users and their share. The pairs are kept
  (``fs.co_users``) and become the GNN's ``CO_USER`` edge type, timed when the link appeared.
- **Orders** (as of their own time, exactly): per entity the order touches (its user, device,
  IP, address, card, product): prior orders, their mean amount, this amount's deviation from it,
  the gap since the entity's previous order, and label-aware counts — earlier orders of *other*
  users there that are known fraud, and that carry any known label.

"Known" labels are what the caller passes: the training labels (known by T1, never an
example's own label: co-users exclude the user, order counts exclude the order's own user).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from graph_build import schema
from graphgnn.model.features import FeatureSet
from graphgnn.model.order_features import order_table
from graphgnn.model.pit import DAY, _edges, _prior_sum

# Entities shared by more users are hubs (NAT gateways, offices): their pairs would swamp the
# relation (quadratic in the users per entity) and say little; the base features count them.
MAX_SHARED = 10
Known = dict[str, pd.Series]  # label -> 0/1 Series indexed by node key (training labels)
_KINDS = (("USED_DEVICE", "dev"), ("USED_IP", "ip"))
_ORDER_KINDS = (("SHIPPED_TO", "addr"), ("PAID_WITH", "pay"))


def _known(fs: FeatureSet, label: str, known: Known | None) -> tuple[np.ndarray, np.ndarray]:
    """(is known fraud, has a known label) per node of ``label``, in feature row order."""
    n = fs.frames.node_count(label)
    series = (known or {}).get(label)
    if series is None or not len(series):
        return np.zeros(n), np.zeros(n)
    series = series[~series.index.duplicated(keep="last")]
    v = series.reindex(fs.frames.keys(label).astype(str).to_numpy()).to_numpy(np.float64)
    return np.nan_to_num(v, nan=0.0), (~np.isnan(v)).astype(np.float64)


def user_links(fs: FeatureSet) -> pd.DataFrame:
    """Distinct ``(u, kind, e, t)``: user row, entity kind, entity row, first time linked."""
    g = fs.frames
    parts = []
    for rel_type, kind in _KINDS:
        s, d, t = _edges(g, rel_type)
        parts.append(pd.DataFrame({"u": s, "kind": kind, "e": d, "t": t}))
    o = order_table(g)
    for (_, kind), label in zip(_ORDER_KINDS, ("Address", "PaymentMethod"), strict=True):
        ok = (o[label] >= 0) & (o["user"] >= 0)
        parts.append(pd.DataFrame({"u": o["user"][ok], "kind": kind, "e": o[label][ok],
                                   "t": o["t"][ok]}))
    links = pd.concat(parts, ignore_index=True)
    return links.groupby(["u", "kind", "e"], as_index=False, sort=False)["t"].min()


def co_user_pairs(fs: FeatureSet) -> pd.DataFrame:
    """Distinct ordered pairs ``(a, b, t, near, kinds…)`` of users sharing a non-hub entity.

    ``t`` is when the pair's first shared link appeared (the later of the two first uses),
    ``near`` whether two of their links arrived within 24 h of each other, and one 0/1 column per
    entity kind they share.
    """
    links = user_links(fs)
    size = links.groupby(["kind", "e"])["u"].transform("size")
    links = links[(size >= 2) & (size <= MAX_SHARED)]
    pairs = links.merge(links, on=["kind", "e"])
    pairs = pairs[pairs["u_x"] != pairs["u_y"]]
    pairs = pairs.assign(t=np.maximum(pairs["t_x"], pairs["t_y"]),
                         near=(np.abs(pairs["t_x"] - pairs["t_y"]) <= DAY).astype(np.int8))
    kinds = pd.get_dummies(pairs["kind"]).reindex(
        columns=[k for _, k in _KINDS + _ORDER_KINDS], fill_value=False).astype(np.int8)
    pairs = pd.concat([pairs[["u_x", "u_y", "t", "near"]], kinds], axis=1)
    agg = {"t": "min", "near": "max", **{k: "max" for k in kinds.columns}}
    out = pairs.groupby(["u_x", "u_y"], as_index=False, sort=False).agg(agg)
    return out.rename(columns={"u_x": "a", "u_y": "b"})


def _user_context(fs: FeatureSet, known: Known | None) -> dict[str, np.ndarray]:
    n = fs.frames.node_count("User")
    pairs = co_user_pairs(fs)
    fs.co_users = (pairs["a"].to_numpy(np.int64), pairs["b"].to_numpy(np.int64),
                   pairs["t"].to_numpy(np.int64))
    a, b = fs.co_users[0], fs.co_users[1]
    f: dict[str, np.ndarray] = {"co_users": np.bincount(a, minlength=n).astype(np.float64)}
    for col in ("near", *(k for _, k in _KINDS + _ORDER_KINDS)):
        f[f"co_users_{col}"] = np.bincount(a, weights=pairs[col].to_numpy(np.float64),
                                           minlength=n)
    fraud, labelled = _known(fs, "User", known)
    f["co_fraud"] = np.bincount(a, weights=fraud[b], minlength=n)
    f["co_labelled"] = np.bincount(a, weights=labelled[b], minlength=n)
    f["co_fraud_share"] = f["co_fraud"] / np.maximum(f["co_users"], 1)
    f["co_fraud_of_labelled_share"] = f["co_fraud"] / np.maximum(f["co_labelled"], 1)
    # Two hops over the co-user relation: how many known frauds my co-users are tied to, my
    # own label taken out (it would come back through every co-user).
    f["co2_fraud"] = np.bincount(a, weights=f["co_fraud"][b], minlength=n) \
        - f["co_users"] * fraud
    base = fs.tables["User"]
    names = [c for c in base.columns if c != schema.node("User").key]
    x = torch.from_numpy(np.array(base[names].to_numpy(np.float32), copy=True))
    ta, tb = torch.from_numpy(np.array(a)), torch.from_numpy(np.array(b))
    cnt = np.maximum(f["co_users"], 1)[:, None]
    mean = torch.zeros_like(x).index_add_(0, ta, x[tb]).numpy()
    mx = torch.zeros_like(x).scatter_reduce(0, ta.unsqueeze(1).expand(-1, x.shape[1]), x[tb],
                                            "amax", include_self=False).numpy()
    for i, name in enumerate(names):
        f[f"co_mean_{name}"] = mean[:, i] / cnt[:, 0]
        f[f"co_max_{name}"] = mx[:, i]
    return f


def _order_entities(fs: FeatureSet) -> dict[str, np.ndarray]:
    g = fs.frames
    o = order_table(g)
    out = {"user": o["user"], "dev": o["Device"], "ip": o["IP"], "addr": o["Address"],
           "pay": o["PaymentMethod"]}
    s, d, _ = _edges(g, "CONTAINS")
    prod = np.full(g.node_count("Order"), -1, np.int64)
    prod[s[::-1]] = d[::-1]  # the first product line of each order
    out["prod"] = prod
    return out


def _order_context(fs: FeatureSet, known: Known | None) -> dict[str, np.ndarray]:
    o = order_table(fs.frames)
    t, amt, user = o["t"], o["amount"], o["user"]
    ofraud, olab = _known(fs, "Order", known)
    ufraud, ulab = _known(fs, "User", known)
    has_user = user >= 0
    # An order counts as known fraud when it or its user is (the user's label is never used
    # for that user's own orders below: counts exclude the order's own user).
    fraud = np.maximum(ofraud, np.where(has_user, ufraud[np.maximum(user, 0)], 0))
    labelled = np.maximum(olab, np.where(has_user, ulab[np.maximum(user, 0)], 0))
    f: dict[str, np.ndarray] = {}
    log_amt = np.log1p(amt)
    ones = np.ones(len(t))
    for name, ent in _order_entities(fs).items():
        ok = ent >= 0
        grp = np.where(ok, ent, -1 - np.arange(len(t)))  # no entity: a group of its own
        n_prior = _prior_sum(grp, t, ones)
        s_amt = _prior_sum(grp, t, log_amt)
        mean = s_amt / np.maximum(n_prior, 1)
        f[f"{name}_prior_orders_all"] = n_prior
        f[f"{name}_prior_amount_mean"] = np.where(n_prior > 0, np.expm1(mean), 0.0)
        f[f"{name}_amount_dev"] = np.where(n_prior > 0, log_amt - mean, 0.0)
        last = _prior_max_time(grp, t)
        f[f"{name}_gap_h"] = np.where(last >= 0, (t - last) / 3_600_000, 1e5)
        if name == "user":
            continue  # the user's own labels are the example's own: never a feature
        key_eu = grp * (int(user.max(initial=0)) + 2) + (user + 1)
        for lab_name, flag in (("fraud", fraud), ("labelled", labelled)):
            other = _prior_sum(grp, t, flag) - _prior_sum(key_eu, t, flag)
            f[f"{name}_prior_{lab_name}"] = np.where(ok, other, 0.0)
        f[f"{name}_prior_fraud_share"] = f[f"{name}_prior_fraud"] / np.maximum(
            f[f"{name}_prior_labelled"], 1)
    return f


def _prior_max_time(group: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per event: the time of the latest strictly earlier event of its group (-1 if none)."""
    n = len(group)
    out = np.full(n, -1, np.int64)
    if n == 0:
        return out
    order = np.lexsort((t, group))
    g, tt = group[order], t[order]
    prev = np.full(n, -1, np.int64)
    same = np.zeros(n, dtype=bool)
    same[1:] = g[1:] == g[:-1]
    prev[1:] = np.where(same[1:], tt[:-1], -1)
    # Ties: the previous *earlier* time, carried over rows with the same time.
    tie = np.zeros(n, dtype=bool)
    tie[1:] = same[1:] & (tt[1:] == tt[:-1])
    idx = np.maximum.accumulate(np.where(~tie, np.arange(n), 0))
    out[order] = prev[idx]
    return out


def add_context(fs: FeatureSet, known: Known | None = None) -> FeatureSet:
    """Append the context columns to ``fs.tables['User']`` and ``['Order']`` (in place).

    Args:
        fs: one snapshot's features (from :func:`graphgnn.model.features.build_features`).
        known: training labels per label (User, Order): 1.0 fraud, 0.0 legit, by node key.

    Returns:
        ``fs``, with ``fs.co_users = (a, b, t)`` (user rows, link time) set.
    """
    from graphgnn.model.features import _finish

    for label, f in (("User", _user_context(fs, known)), ("Order", _order_context(fs, known))):
        cols = pd.DataFrame(_finish(f), index=fs.tables[label].index)
        fs.tables[label] = pd.concat([fs.tables[label], cols], axis=1)
    return fs
