"""The legitimate population: accounts, households, offices, carriers and their sessions.

Households and offices share IPs (offices at the same hours), families share a device or a
card, everyone passes through mobile-carrier NAT now and then: sharing alone is no proof of
guilt. Fraud accounts of the default mode get their attributes here too (camouflage).
"""

from __future__ import annotations

import numpy as np

from graph_build.generate.common import (
    Arrays,
    Entities,
    expand,
    order_counts,
    pick,
    random_ips,
    session_block,
)
from graph_build.generate.constants import (
    COUNTRY_P,
    DAY,
    EMAIL_P,
    HOUR,
    K_NORMAL,
    K_SIGNUP,
    MINUTE,
)


def population(rng: np.random.Generator, n: int, t0: int, t1: int) -> Arrays:
    """User attributes from the legit distributions (fraud accounts get them too: camouflage)."""
    old = rng.random(n) < 0.55
    age = rng.exponential(400 * DAY, n) % (8 * 365 * DAY)  # wrap, not clip: no spike at 8y
    created = np.where(old, t0 - HOUR - age, t0 + rng.random(n) ** 0.8 * (t1 - t0))
    return {"created": created.astype(np.int64), "country": pick(rng, COUNTRY_P, n),
            "email": pick(rng, EMAIL_P, n), "home_ip": random_ips(rng, n)}



def legit_structures(rng: np.random.Generator, pop: Arrays, real: np.ndarray,
                      ent: Entities) -> Arrays:
    """Households, offices, mobile carriers, devices, addresses and cards of real accounts."""
    n, idx = len(real), rng.permutation(np.flatnonzero(real))
    s: Arrays = {k: np.full(n, -1, dtype=np.int64)
                                for k in ("hh", "office", "hh_dev", "fam_pay")}
    # Households (2-5 people behind one home IP, often one address, some a family device/card).
    hs = 2 + pick(rng, (0.5, 0.25, 0.15, 0.10), len(idx) // 4 + 1)
    n_hh = int(np.searchsorted(np.cumsum(hs), 0.35 * len(idx)))
    hs, members = hs[:n_hh], idx[: hs[:n_hh].sum()]
    s["hh"][members] = np.repeat(np.arange(n_hh), hs)
    hh_first = members[np.cumsum(hs) - hs]
    pop["home_ip"][members] = random_ips(rng, n_hh)[s["hh"][members]]
    pop["country"][members] = pop["country"][hh_first][s["hh"][members]]
    shared_dev = rng.random(n_hh) < 0.3
    hh_dev = np.full(n_hh, -1)
    hh_dev[shared_dev] = ent.devices(shared_dev.sum())
    s["hh_dev"][members] = hh_dev[s["hh"][members]]
    # Offices, campuses: 10-200 users behind one NAT IP (a few in one /24 for campuses).
    order = rng.permutation(idx)
    osz = np.clip(np.round(rng.lognormal(np.log(20), 0.8, len(idx) // 10 + 1)), 10, 200)
    n_off = int(np.searchsorted(np.cumsum(osz), 0.15 * len(idx)))
    osz = osz[:n_off].astype(np.int64)
    s["office"][order[: osz.sum()]] = np.repeat(np.arange(n_off), osz)
    s["office_ip"] = random_ips(rng, n_off) & ~0xFF | 1
    s["office_nip"] = np.where(rng.random(n_off) < 0.7, 1, rng.integers(2, 5, n_off))
    # Mobile carriers: a small pool of CGNAT IPs per carrier shared by many users.
    pool = max(16, n // 400)
    prefixes = random_ips(rng, 12).reshape(6, 2) >> 16 << 16
    s["carrier"] = rng.integers(0, 6, n)
    s["carrier_ips"] = prefixes[:, rng.integers(0, 2, pool)] | rng.integers(1, 1 << 16, (6, pool))
    # Own devices (1-3), addresses (1-2; the household's when shared), cards (1-2).
    ndev = 1 + pick(rng, (0.55, 0.33, 0.12), n)
    s["ndev"] = ndev
    s["dev"] = np.full((n, 3), -1, dtype=np.int64)
    for slot in range(3):
        has = real & (ndev > slot)
        s["dev"][has, slot] = ent.devices(has.sum())
    s["addr"] = np.full((n, 2), -1, dtype=np.int64)
    s["pay"] = np.full((n, 2), -1, dtype=np.int64)
    naddr, npay = 1 + (rng.random(n) < 0.15), 1 + (rng.random(n) < 0.4)
    for slot in range(2):
        has = real & (naddr > slot)
        s["addr"][has, slot] = ent.addresses(np.flatnonzero(has))
        has = real & (npay > slot)
        s["pay"][has, slot] = ent.payments(np.flatnonzero(has))
    share_addr = rng.random(n_hh) < 0.8
    hh_addr = ent.addresses(hh_first)
    use = share_addr[s["hh"][members]]
    s["addr"][members[use], 0] = hh_addr[s["hh"][members[use]]]
    share_card = rng.random(n_hh) < 0.25
    fam = np.full(n_hh, -1)
    fam[share_card] = ent.payments(hh_first[share_card])
    s["fam_pay"][members] = fam[s["hh"][members]]
    return s



def legit_sessions(rng: np.random.Generator, pop: Arrays,
                    st: Arrays, real: np.ndarray, end_cap: np.ndarray,
                    t0: int, t1: int) -> Arrays:
    """Sessions (and which of them end in an order) of real accounts over their active span."""
    idx = np.flatnonzero(real)
    n = len(idx)
    created = pop["created"][idx]
    start = np.maximum(created, t0) + 10_000  # a login precedes its session by seconds
    last = t1 - HOUR  # leaves room for the session's clicks and checkout inside the window
    end = np.where(rng.random(n) < 0.2, start + rng.random(n) * (last - start), last)
    end = np.maximum(np.minimum(end, end_cap[idx]), start + MINUTE).astype(np.int64)
    new = created >= t0
    fast = new & (rng.random(n) < 0.3)  # new users who order right at signup: promo look-alikes
    n_orders = order_counts(rng, n)
    off = (new & ~fast).astype(np.int64)  # the signup session of other new users has no order
    k = np.clip(np.round(rng.lognormal(np.log(4), 0.8, n)), 1, 25).astype(np.int64)
    k = np.maximum(k, n_orders + off)
    loc, j = expand(k)
    S, u = len(loc), idx[loc]
    t = start[loc] + (rng.random(S) * (end - start)[loc]).astype(np.int64)
    # Evening-heavy time of day; keep the uniform time where the reshaped one leaves the span.
    tod = (rng.normal(19.5, 4.0, S) % 24 * HOUR).astype(np.int64)
    shaped = t0 + (t - t0) // DAY * DAY + tod
    t = np.where((shaped >= start[loc]) & (shaped <= end[loc]), shaped, t)
    signup = new[loc] & (j == 0)
    t = np.where(signup, created[loc] + rng.integers(10_000, 2 * MINUTE, S), t)
    order = (j >= off[loc]) & (j < off[loc] + n_orders[loc])
    # Shopping sprees: a few users place all their orders within ninety minutes.
    spree = rng.random(n) < 0.03
    base = start + (rng.random(n) * (end - start - 2 * HOUR).clip(0)).astype(np.int64)
    sp = spree[loc] & order & ~signup
    t[sp] = base[loc[sp]] + rng.integers(0, 90 * MINUTE, sp.sum())
    # Device: a household device sometimes, else mostly the primary one.
    r = rng.random(S)
    slot = np.minimum(np.searchsorted([0.7, 0.9], rng.random(S)), st["ndev"][u] - 1)
    dev = np.where((st["hh_dev"][u] >= 0) & (r < 0.35), st["hh_dev"][u], st["dev"][u, slot])
    # IP: home, office NAT, mobile carrier CGNAT, or a one-off (travel, cafe).
    r, ip = rng.random(S), pop["home_ip"][u].copy()
    off_u = st["office"][u]
    m = (off_u >= 0) & (r >= 0.03) & (r < 0.43)
    ip[m] = st["office_ip"][off_u[m]] + rng.integers(0, 4, m.sum()) % st["office_nip"][off_u[m]]
    # Office sessions cluster at lunch and working hours, so colleagues share an IP *at the
    # same time*: the legit look-alike of a proxy ring's synchronized IP sharing.
    work = np.where(rng.random(m.sum()) < 0.6, 12 * HOUR + rng.integers(0, 90 * MINUTE, m.sum()),
                    9 * HOUR + rng.integers(0, 9 * HOUR, m.sum()))
    at_work = t0 + (t[m] - t0) // DAY * DAY + work
    ok = (at_work >= start[loc[m]]) & (at_work <= end[loc[m]]) & ~signup[m] & ~sp[m]
    t[np.flatnonzero(m)[ok]] = at_work[ok]
    m = r >= 0.85
    ip[m] = st["carrier_ips"][st["carrier"][u[m]], rng.integers(0, st["carrier_ips"].shape[1],
                                                                m.sum())]
    m = r < 0.03
    ip[m] = random_ips(rng, m.sum())
    a2, p2 = st["addr"][u, 1], st["pay"][u, 1]
    addr = np.where((a2 >= 0) & (rng.random(S) < 0.15), a2, st["addr"][u, 0])
    pay = np.where((p2 >= 0) & (rng.random(S) < 0.3), p2, st["pay"][u, 0])
    pay = np.where((st["fam_pay"][u] >= 0) & (rng.random(S) < 0.4), st["fam_pay"][u], pay)
    return session_block(S, user=u, t=t, device=dev, ip=ip, order=order,
                          addr=np.where(order, addr, -1), pay=np.where(order, pay, -1),
                          kind=np.where(signup, K_SIGNUP, K_NORMAL))


