"""Reasons for a new order on the fast path, without frames.

What :func:`graphgnn.scores.reasons.build_reasons` says of one order scored alone (a one-row
score frame, the graph around it): the entities it uses that are shared with at least two
flagged users ("shipped to address a12 used by 3 flagged users", most first, at most
``MAX_SHARED``), then its largest feature deviations, else its rank. The flagged users per
entity are counted once per cached state (:func:`flagged_per_entity`), over the same
user–entity associations as :func:`graphgnn.scores.rings.entity_links` (device / IP links and
the users of the orders placed from, shipped to or paid with each entity).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build import schema
from graphgnn.scores.reasons import MAX_REASONS, MAX_SHARED, _feature_reasons, _plural

# (label, the order's relationship, verb) in the order _order_shared reads them.
_VERBS = (("Address", "shipped to address"), ("PaymentMethod", "paid with card"),
          ("Device", "placed from device"), ("IP", "placed from IP"))


def flagged_per_entity(state) -> dict[str, np.ndarray]:
    """label -> distinct flagged users associated with each entity row (device, IP, address,
    card)."""
    h = state.history
    g = state.out.fs.frames
    flagged = state.flagged.get("User", set())
    is_flagged = g.keys("User").astype(str).isin(flagged).to_numpy()
    out = {}
    for label, _ in _VERBS:
        u, e = [h.o["user"]], [h.o[label]]
        if label in h.links and label in ("Device", "IP"):
            u.append(h.links[label].u)
            e.append(h.links[label].e)
        u, e = np.concatenate(u), np.concatenate(e)
        ok = (u >= 0) & (e >= 0)
        ok[ok] = is_flagged[u[ok]]
        pairs = np.unique(np.stack([u[ok], e[ok]], 1), axis=0) if ok.any() else \
            np.zeros((0, 2), np.int64)
        out[label] = np.bincount(pairs[:, 1], minlength=g.node_count(label))
    return out


def _linked(state, label: str, user_row: int | None, e: int) -> bool:
    """Whether the cached user is associated with entity row ``e`` already."""
    h = state.history
    if user_row is None:
        return False
    lo, hi = h.orders["user"].bounds(user_row)
    if np.any(h.o[label][h.orders["user"].ids[lo:hi]] == e):
        return True
    if label in ("Device", "IP"):
        links = h.links[label]
        return bool(np.any(links.e[links.by_u.ids[slice(*links.by_u.bounds(user_row))]] == e))
    return False


def order_reasons(state, scorer, req, rows, x: np.ndarray, score: float) -> list[str]:
    """The reasons ``build_reasons`` gives the new order (see the module docstring)."""
    counts = state.flagged_entities
    user_flagged = req.user in state.flagged.get("User", set())
    shared: list[tuple[int, str]] = []
    for label, verb in _VERBS:
        if label not in req.entities:
            continue
        row = rows.ent.get(label)
        n = int(counts[label][row]) if row is not None else 0
        if user_flagged and (row is None or not _linked(state, label, rows.user, row)):
            n += 1
        if n >= 2:
            shared.append((n, f"{verb} {req.entities[label]} used by {_plural('user', n)}"))
    lines = [t for _, t in sorted(shared, key=lambda v: -v[0])[:MAX_SHARED]]
    key = schema.node("Order").key
    names = scorer.feature_names["Order"]
    frame = pd.DataFrame(np.asarray(x, np.float64)[None, :], columns=names)
    frame.insert(0, "anomaly_score", [score])
    frame.insert(0, key, [req.key])
    lines += _feature_reasons(frame, key, {req.key}, names).get(req.key, [])
    return lines[:MAX_REASONS] or ["score ranks 1 of 1 Order nodes"]
