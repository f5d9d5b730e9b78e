"""Sessions become events, orders and order lines; the product catalogue they buy from.

Legit and fraud sessions go through the same code, so both look alike in shape: a login, the
session, carts, a checkout, now and then a password reset or a profile update.
"""

from __future__ import annotations

import numpy as np

from graph_build.generate.common import Arrays, expand, pick
from graph_build.generate.constants import (
    CAT_LOG_PRICE,
    CATEGORIES,
    K_TEST,
    MINUTE,
    T_CHEAP,
    T_NORMAL,
    T_PREMIUM,
    T_TEST,
)


def events(rng: np.random.Generator, ses: Arrays,
            t1: int) -> tuple[Arrays, np.ndarray]:
    """Events of every session (sorted by time) and each session's checkout time."""
    S, t, kind, order = len(ses["t"]), ses["t"], ses["kind"], ses["order"].astype(bool)
    login = rng.random(S) < np.array([0.45, 1.0, 1.0, 0.3])[kind]
    n_cart = np.where(order, 1 + pick(rng, (0.45, 0.3, 0.15, 0.1), S),
                      np.minimum(rng.poisson(0.5, S), 4))
    n_cart = np.where(kind == K_TEST, order, n_cart)
    reset = rng.random(S) < np.array([0.01, 0.0, 0.6, 0.0])[kind]
    profile = rng.random(S) < np.array([0.03, 0.5, 0.8, 0.0])[kind]
    # Card testers check out within seconds; people browse for minutes.
    checkout = t + np.where(kind == K_TEST, rng.integers(20_000, 3 * MINUTE, S),
                            rng.integers(3 * MINUTE, 30 * MINUTE, S))
    cart, _ = expand(n_cart)
    cart_span = np.where(order, checkout - t, 15 * MINUTE)[cart]
    everyone, oi = np.arange(S), np.flatnonzero(order)
    li, ri, pi = np.flatnonzero(login), np.flatnonzero(reset), np.flatnonzero(profile)
    sid = np.concatenate([li, everyone, cart, oi, ri, pi])
    ts = np.concatenate([t[li] - rng.integers(1_000, 5_000, len(li)), t,
                         t[cart] + (rng.random(len(cart)) * cart_span).astype(np.int64),
                         checkout[oi], t[ri] + rng.integers(0, MINUTE, len(ri)),
                         t[pi] + rng.integers(0, 5 * MINUTE, len(pi))])
    etype = np.repeat(np.arange(6, dtype=np.int8),
                      [len(li), S, len(cart), len(oi), len(ri), len(pi)])
    ts = np.minimum(ts, t1 - 1)
    o = np.lexsort((etype, ses["user"][sid], ts))
    return {"sid": sid[o], "ts": ts[o], "type": etype[o]}, checkout



def products(rng: np.random.Generator, n: int) -> Arrays:
    """Catalogue with category-dependent, heavy-tailed prices and Zipf-like popularity."""
    cat = rng.integers(0, len(CATEGORIES), n)
    raw = np.exp(rng.normal(np.array(CAT_LOG_PRICE)[cat], 0.8))
    price = np.clip(np.floor(raw) + 0.99, 0.99, 2999.99)
    return {"category": cat, "price": price, "popularity": rng.pareto(1.2, n) + 0.05}



def order_items(rng: np.random.Generator, tier: np.ndarray,
                 prod: Arrays) -> Arrays:
    """Lines per order (1-4, quantity 1-3); the tier picks cheap / premium / any products."""
    n_items = np.where(tier == T_TEST, 1 + (rng.random(len(tier)) < 0.3),
                       1 + pick(rng, (0.55, 0.25, 0.12, 0.08), len(tier)))
    own, _ = expand(n_items)
    qty = np.where(tier[own] == T_TEST, 1, 1 + pick(rng, (0.82, 0.13, 0.05), len(own)))
    price, P = prod["price"], len(prod["price"])
    lo, hi = np.quantile(price, [0.25, 0.85])
    chosen = np.empty(len(own), dtype=np.int64)
    everything, cheap, premium = np.arange(P), np.flatnonzero(price <= lo), np.flatnonzero(
        price >= hi)
    for tr, subset in ((T_NORMAL, everything), (T_CHEAP, cheap), (T_PREMIUM, premium),
                       (T_TEST, cheap)):
        m = tier[own] == tr
        cw = np.cumsum(prod["popularity"][subset])
        pos = np.searchsorted(cw, rng.random(m.sum()) * cw[-1])
        chosen[m] = subset[np.minimum(pos, len(subset) - 1)]
    # The same product twice in one order becomes one line with the summed quantity.
    keys, inv = np.unique(own * P + chosen, return_inverse=True)
    quantity = np.bincount(inv, weights=qty).astype(np.int64)
    line_order, line_prod = keys // P, keys % P
    amount = np.bincount(line_order, weights=price[line_prod] * quantity, minlength=len(tier))
    return {"order": line_order, "product": line_prod, "quantity": quantity,
            "price": price[line_prod], "amount": np.round(amount, 2)}


