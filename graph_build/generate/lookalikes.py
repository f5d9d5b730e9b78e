"""Legitimate look-alikes of the hard mode's fraud, at scale.

Each one mimics a fraud signal with innocent activity, so that no single relation or timing
convicts: referral sign-up bursts behind one IP (promotion rings), new phones and a new family
tablet (fresh ring devices), a parent's card used by a grown-up child elsewhere and gifts
shipped to a friend (card / address chains), family members shopping together on one card
within hours (synchronized ring orders), an evening on a friend's wifi (a ring member's
residential proxy: somebody else's home IP).
"""

from __future__ import annotations

import numpy as np

from graph_build.generate.common import Arrays, Entities, random_ips
from graph_build.generate.constants import HOUR, K_SIGNUP, MINUTE

BURST_SHARE = 0.06  # of the accounts registered inside the window
CHURN_SHARE, TABLET_SHARE = 0.2, 0.12  # of users (new phone) and of households (new tablet)
CROSS_CARD_SHARE, GIFT_SHARE = 0.04, 0.04  # of users
CO_SHOP = 0.5  # share of a shared card's non-owner orders placed within hours of the owner's
VISIT_SHARE = 0.12  # of users, who now and then go online from a friend's home


def referral_bursts(rng: np.random.Generator, pop: Arrays, t0: int) -> Arrays:
    """Groups of 3-10 new accounts registering within two hours behind one IP (before sessions).

    Moves the members' ``created`` together and returns ``user`` and ``ip`` of each member.
    """
    new = rng.permutation(np.flatnonzero(pop["created"] >= t0 + HOUR))
    sizes = rng.integers(3, 11, len(new) // 3 + 1)
    n_groups = int(np.searchsorted(np.cumsum(sizes), BURST_SHARE * len(new)))
    sizes = sizes[:n_groups]
    users = new[: sizes.sum()]
    group = np.repeat(np.arange(n_groups), sizes)
    centre = pop["created"][users[np.cumsum(sizes) - sizes]]
    pop["created"][users] = centre[group] + rng.integers(0, 2 * HOUR, len(users))
    return {"user": users, "ip": random_ips(rng, n_groups)[group]}


def _random_order_of(rng: np.random.Generator, ses: Arrays, owner_key: np.ndarray,
                     want: np.ndarray) -> np.ndarray:
    """For each key in ``want``: a random order session whose ``owner_key`` equals it, or -1."""
    orders = np.flatnonzero((owner_key >= 0) & ses["order"].astype(bool))
    orders = orders[np.argsort(owner_key[orders], kind="stable")]
    keys = owner_key[orders]
    lo, hi = np.searchsorted(keys, want), np.searchsorted(keys, want, side="right")
    pick = lo + (rng.random(len(want)) * (hi - lo)).astype(np.int64)
    return np.where(hi > lo, orders[np.minimum(pick, max(len(orders) - 1, 0))], -1)


def apply_lookalikes(rng: np.random.Generator, ses: Arrays, pop: Arrays, st: Arrays,
                     ent: Entities, bursts: Arrays, t0: int, t1: int) -> None:
    """Rewrite legit sessions in place: bursts' IPs, device churn, shared cards, gifts, visits,
    co-shopping times."""
    u, t, n_users = ses["user"], ses["t"], len(pop["created"])
    # Referral bursts: the signup session (often an order: promo codes) behind the venue's IP.
    burst_ip = np.full(n_users, -1, dtype=np.int64)
    burst_ip[bursts["user"]] = bursts["ip"]
    m = (ses["kind"] == K_SIGNUP) & (burst_ip[u] >= 0)
    ses["ip"][m] = burst_ip[u[m]]
    # New phones: after a random time the primary device is replaced (a fresh device).
    churn = rng.random(n_users) < CHURN_SHARE
    since = pop["created"].clip(t0)
    when = since + (rng.random(n_users) * (t1 - since)).astype(np.int64)
    new_dev = np.full(n_users, -1, dtype=np.int64)
    new_dev[churn] = ent.devices(churn.sum())
    m = churn[u] & (t > when[u]) & (ses["device"] == st["dev"][u, 0]) & (rng.random(len(u)) < .9)
    ses["device"][m] = new_dev[u[m]]
    # A new family tablet: household members start using it after the same day.
    n_hh = int(st["hh"].max()) + 1
    tablet_hh = rng.random(n_hh) < TABLET_SHARE
    tablet = np.full(n_hh, -1, dtype=np.int64)
    tablet[tablet_hh] = ent.devices(tablet_hh.sum())
    hh_when = t0 + (rng.random(n_hh) * (t1 - t0)).astype(np.int64)
    hh = st["hh"][u]
    m = (hh >= 0) & (rng.random(len(u)) < 0.3)
    m[m] = tablet_hh[hh[m]] & (t[m] > hh_when[hh[m]])
    ses["device"][m] = tablet[hh[m]]
    # A parent's card paying for a grown-up child elsewhere; gifts shipped to a friend.
    order = ses["order"].astype(bool) & (ses["fraud"] < 0)
    payer = np.where(rng.random(n_users) < CROSS_CARD_SHARE,
                     rng.integers(0, n_users, n_users), -1)
    home = st["hh"]
    same = (payer == np.arange(n_users)) | ((home >= 0) & (home[payer.clip(0)] == home))
    payer[same] = -1  # someone living elsewhere
    card = np.where(payer >= 0, st["pay"][payer.clip(0), 0], -1)
    m = order & (card[u] >= 0) & (rng.random(len(u)) < 0.5)
    ses["pay"][m] = card[u[m]]
    friend = np.where(rng.random(n_users) < GIFT_SHARE, rng.integers(0, n_users, n_users), -1)
    m = order & (friend[u] >= 0) & (rng.random(len(u)) < 0.25)
    ses["addr"][m] = st["addr"][friend[u[m]], 0]
    host = np.where(rng.random(n_users) < VISIT_SHARE, rng.integers(0, n_users, n_users), -1)
    m = (host[u] >= 0) & (rng.random(len(u)) < 0.12) & (ses["kind"] != K_SIGNUP)
    ses["ip"][m] = pop["home_ip"][host[u[m]]]
    _co_shop(rng, ses, pop, ent, t1)


def _co_shop(rng: np.random.Generator, ses: Arrays, pop: Arrays, ent: Entities,
             t1: int) -> None:
    """Orders on someone else's card move to within hours of one of the card owner's orders."""
    owner = np.concatenate(ent.pay_owner)
    u, pay = ses["user"], ses["pay"]
    order = ses["order"].astype(bool) & (pay >= 0)
    owner_of = np.where(order, owner[pay.clip(0)], -1)
    borrowed = np.flatnonzero(order & (owner_of != u) & (ses["kind"] != K_SIGNUP))
    borrowed = borrowed[rng.random(len(borrowed)) < CO_SHOP]
    # The owner's own orders on that card, keyed by card.
    own_key = np.where(order & (owner_of == u), pay, -1)
    near = _random_order_of(rng, ses, own_key, pay[borrowed])
    ok = near >= 0
    borrowed, near = borrowed[ok], near[ok]
    shift = np.clip(rng.normal(0, 2 * HOUR, len(near)), -4 * HOUR, 4 * HOUR).astype(np.int64)
    t_new = ses["t"][near] + shift
    # Never before the account exists, never after the window leaves room for checkout.
    ok = (t_new > pop["created"][u[borrowed]] + 10 * MINUTE) & (t_new < t1 - HOUR)
    ses["t"][borrowed[ok]] = t_new[ok]
