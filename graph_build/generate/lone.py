"""Fraud outside any ring (hard mode): lone takeovers, stolen cards, friendly fraud.

Half the fraud of the hard mode is lone, as in real shops. A lone takeover is a short
temporal story on an old account (a fresh device, a password reset, a new address, orders
within the hour); a stolen card is a card new to the account — now and then one a legit
customer of the shop used before, or one of a breached BIN range; friendly fraud is an
ordinary order of an ordinary customer, disputed later (nothing to find but the label).
"""

from __future__ import annotations

import numpy as np

from graph_build.generate.common import Arrays, session_block
from graph_build.generate.constants import (
    DAY,
    HOUR,
    K_TAKEOVER,
    LONE_ATO,
    MINUTE,
    STOLEN,
    T_NORMAL,
    T_PREMIUM,
)
from graph_build.generate.hard_rings import Context

BREACHED_BINS = 3  # stolen cards new to the shop come from a few breached BIN ranges


def lone_takeovers(rng: np.random.Generator, victims: np.ndarray, when: np.ndarray,
                   ctx: Context) -> tuple[list[Arrays], tuple[np.ndarray, ...]]:
    """Takeover sessions and 1-3 orders shipped to a new address; the victims' lockout."""
    n, ent = len(victims), ctx.ent
    device = ent.devices(n)
    takeover = session_block(n, user=victims, t=when, device=device, ip=ctx.legit_ips(rng, n),
                             fraud=LONE_ATO, kind=K_TAKEOVER)
    per = rng.integers(1, 4, n)
    v = np.repeat(np.arange(n), per)
    k = len(v)
    t = np.minimum(when[v] + rng.integers(5 * MINUTE, 2 * HOUR, k), ctx.t1 - HOUR)
    drop_addr = ent.addresses(victims)
    tier = np.where(rng.random(n) < 0.5, T_PREMIUM, T_NORMAL)[v]
    orders = session_block(k, user=victims[v], t=t, device=device[v], order=True,
                           ip=np.where(rng.random(k) < 0.5, takeover["ip"][v],
                                       ctx.legit_ips(rng, k)),
                           addr=drop_addr[v], pay=ctx.st["pay"][victims[v], 0], tier=tier,
                           fraud=LONE_ATO)
    back = when + rng.integers(DAY, 7 * DAY, n)  # the owner regains the account later
    return [takeover, orders], (victims, when - HOUR, back)


def stolen_cards(rng: np.random.Generator, users: np.ndarray, when: np.ndarray,
                 ctx: Context) -> list[Arrays]:
    """1-2 orders of an account with a card new to it, from its own device and home."""
    n, ent, st, pop = len(users), ctx.ent, ctx.st, ctx.pop
    # Half the cards belong to someone who shops here too (a legit customer's stolen card).
    known = rng.random(n) < 0.5
    card = st["pay"][rng.integers(0, len(pop["created"]), n), 0]
    card[~known] = ent.payments(users[~known])
    ent.pay_bins.append((card[~known], rng.integers(0, 1 << 30, BREACHED_BINS)))
    per = 1 + (rng.random(n) < 0.4)
    v = np.repeat(np.arange(n), per)
    k = len(v)
    t = np.minimum(when[v] + rng.integers(0, 3 * HOUR, k), ctx.t1 - HOUR)
    addr = st["addr"][users, 0].copy()
    moved = rng.random(n) < 0.3
    addr[moved] = ent.addresses(users[moved])
    ip = np.where(rng.random(k) < 0.6, pop["home_ip"][users[v]], ctx.legit_ips(rng, k))
    tier = np.where(rng.random(n) < 0.3, T_PREMIUM, T_NORMAL)[v]
    return [session_block(k, user=users[v], t=t, device=st["dev"][users[v], 0], ip=ip,
                          order=True, addr=addr[v], pay=card[v], tier=tier, fraud=STOLEN)]


def friendly_orders(rng: np.random.Generator, ses: Arrays, users: np.ndarray) -> np.ndarray:
    """One random legit order session of each user (a dispute of a delivered order)."""
    wanted = np.zeros(int(ses["user"].max()) + 1, dtype=bool)
    wanted[users] = True
    cand = np.flatnonzero(wanted[ses["user"]] & ses["order"].astype(bool) & (ses["fraud"] < 0))
    cand = cand[np.lexsort((rng.random(len(cand)), ses["user"][cand]))]
    return cand[np.unique(ses["user"][cand], return_index=True)[1]]
