"""Fraud rings of the default (demo) mode: easy enough to see in a minute.

Five ring types (device farm, proxy ring, promotion abuse, card testing, account takeover),
3 to 50 members, each synchronized in one to three waves. Members of all but the takeover
rings are fake accounts with their own devices, IPs, addresses and cards: shared inside the
ring, rarely with anybody else.
"""

from __future__ import annotations

import numpy as np

from graph_build.generate.common import (
    Arrays,
    Entities,
    World,
    concat_sessions,
    expand,
    order_counts,
    random_ips,
    session_block,
)
from graph_build.generate.constants import (
    ATO,
    CARD,
    DAY,
    FARM,
    HOUR,
    K_NORMAL,
    K_SIGNUP,
    K_TAKEOVER,
    K_TEST,
    MINUTE,
    PROMO,
    PROXY,
    RING_TYPES,
    T_CHEAP,
    T_NORMAL,
    T_PREMIUM,
    T_TEST,
)
from graph_build.generate.population import legit_sessions, legit_structures, population


def plan_rings(rng: np.random.Generator, n_users: int, t0: int, t1: int) -> Arrays:
    """Ring sizes (3..50, mostly small), types (all five when there are >= 5), active spans."""
    target = rng.uniform(0.03, 0.05) * n_users
    sizes = np.clip(3 + np.floor(rng.lognormal(np.log(3), 1.0, int(target) + 5)), 3, 50)
    n_rings = max(5, int(np.searchsorted(np.cumsum(sizes), target)) + 1)
    sizes = sizes[:n_rings].astype(np.int64)
    types = rng.permutation(np.resize(np.arange(5), n_rings))
    # Typical activity spans per type: farms work for days, card testers for minutes to hours.
    lo = np.array([1 * DAY, 12 * HOUR, 3 * HOUR, 20 * MINUTE, 1 * HOUR])[types]
    hi = np.array([10 * DAY, 5 * DAY, 2 * DAY, 6 * HOUR, 12 * HOUR])[types]
    span = np.minimum(lo + rng.random(n_rings) * (hi - lo), (t1 - t0) // 4).astype(np.int64)
    first, last = t0 + 3 * DAY, t1 - span - 4 * HOUR
    start = (first + rng.random(n_rings) * np.maximum(last - first, 0)).astype(np.int64)
    order = np.argsort(start, kind="stable")
    return {"size": sizes[order], "type": types[order], "start": start[order],
            "end": start[order] + span[order]}



def assign_members(rng: np.random.Generator, pop: Arrays,
                    rings: Arrays, t0: int) -> list[np.ndarray]:
    """Members per ring: account takeovers hit old accounts; other rings are random accounts."""
    n = len(pop["created"])
    perm = rng.permutation(n)
    is_ato = rings["type"] == ATO
    ato = perm[pop["created"][perm] < t0 - 30 * DAY][: rings["size"][is_ato].sum()]
    taken = np.zeros(n, dtype=bool)
    taken[ato] = True
    fake = perm[~taken[perm]][: rings["size"][~is_ato].sum()]
    ato_parts = np.split(ato, np.cumsum(rings["size"][is_ato])[:-1])
    fake_parts = np.split(fake, np.cumsum(rings["size"][~is_ato])[:-1])
    members, ia, ifk = [], iter(ato_parts), iter(fake_parts)
    for typ in rings["type"]:
        members.append(next(ia) if typ == ATO else next(ifk))
    return members



def ring_sessions(rng: np.random.Generator, r: int, typ: int, members: np.ndarray, s: int,
                   e: int, pop: Arrays, st: Arrays,
                   ent: Entities, t0: int) -> list[Arrays]:
    """One ring's synchronized activity; sets its fake accounts' ``created`` times."""
    m = len(members)
    waves = np.sort(s + (rng.random(rng.integers(1, 4)) * (e - s)).astype(np.int64))
    wave = waves[rng.integers(0, len(waves), m)]
    home, blocks = pop["home_ip"][members], []
    if typ == ATO:
        atk_dev = ent.devices(rng.integers(1, 3))
        atk_ip = random_ips(rng, 1) & ~0xFF | rng.choice(np.arange(1, 255), rng.integers(1, 3),
                                                          replace=False)
        drops = ent.addresses(members[: rng.integers(1, 3)])
        t_to = wave + rng.integers(0, 20 * MINUTE, m)
        blocks.append(session_block(m, user=members, t=t_to, ring=r, fraud=typ, kind=K_TAKEOVER,
                                     device=atk_dev[rng.integers(0, len(atk_dev), m)],
                                     ip=atk_ip[rng.integers(0, len(atk_ip), m)]))
        loc, _ = expand(rng.integers(1, 4, m))
        k = len(loc)
        blocks.append(session_block(
            k, user=members[loc], t=t_to[loc] + rng.integers(5 * MINUTE, 90 * MINUTE, k),
            device=atk_dev[rng.integers(0, len(atk_dev), k)], order=True, ring=r, fraud=typ,
            ip=atk_ip[rng.integers(0, len(atk_ip), k)], tier=T_PREMIUM,
            addr=drops[rng.integers(0, len(drops), k)], pay=st["pay"][members[loc], 0]))
        return blocks
    aged = np.minimum(pop["created"][members], s - rng.integers(HOUR, 10 * DAY, m))
    n_orders = order_counts(rng, m, at_least=2 if typ == CARD else 1)
    extra = rng.integers(0, 4, m) if typ in (FARM, PROXY) else 0
    loc, j = expand(n_orders + extra)
    k, ip_r = len(loc), rng.random(len(loc))
    order, tier, kind = j < n_orders[loc], T_NORMAL, K_NORMAL
    t = wave[loc] + rng.integers(0, 45 * MINUTE, k)
    if typ in (FARM, PROXY):  # they pay with their own (stolen or prepaid) cards
        pay, addr = ent.payments(members)[loc], ent.addresses(members)[loc]
    if typ == FARM:  # a handful of devices (one model) run many accounts
        dev = ent.devices(int(np.clip(round(m / rng.uniform(3, 8)), 1, 6)))
        ent.farm_devices.append(dev)
        uplink = random_ips(rng, rng.integers(1, 3))
        device = dev[rng.integers(0, len(dev), k)]
        ip = np.where(ip_r < 0.4, uplink[rng.integers(0, len(uplink), k)], home[loc])
    elif typ == PROXY:  # own devices, but every session through a small proxy pool
        n_ip = int(np.clip(m // 3 + 2, 2, 12))
        pool = (random_ips(rng, 1) & ~0xFF | rng.choice(np.arange(1, 255), n_ip, replace=False)
                if rng.random() < 0.7 else random_ips(rng, n_ip))
        device = ent.devices(m)[loc]
        ip = np.where(ip_r < 0.9, pool[rng.integers(0, n_ip, k)], home[loc])
    elif typ == PROMO:  # fresh accounts, order within hours, cheap, shared drop address/card
        aged = wave - rng.integers(5 * MINUTE, 6 * HOUR, m)
        keep = j < np.minimum(n_orders, 3)[loc]
        loc, j, order = loc[keep], j[keep], order[keep]
        k = len(loc)
        t = wave[loc] + rng.integers(0, 2 * HOUR, k)
        drops = ent.addresses(members[: rng.integers(1, 4)])
        cards = ent.payments(members[: rng.integers(1, 3)])
        addr, pay = drops[rng.integers(0, len(drops), k)], cards[rng.integers(0, len(cards), k)]
        device = ent.devices(m)[loc]
        if rng.random() < 0.3:  # emulator farm behind the accounts
            shared = ent.devices(rng.integers(1, 3))
            device = shared[rng.integers(0, len(shared), k)]
        ip, tier = home[loc], T_CHEAP
    else:  # CARD: many tiny orders in one burst over a pool of cards with one or two BINs
        aged = np.where(rng.random(m) < 0.5, s - rng.integers(HOUR, 10 * DAY, m), aged)
        cards = ent.payments(members[rng.integers(0, m, int(np.clip(m * rng.uniform(1, 3),
                                                                    3, 150)))])
        ent.pay_bins.append((cards, rng.integers(0, 1 << 30, rng.integers(1, 3))))
        t = s + (rng.random(k) * (e - s)).astype(np.int64)
        pay, addr = cards[rng.integers(0, len(cards), k)], ent.addresses(members)[loc]
        pool = random_ips(rng, rng.integers(1, 4))
        ip = np.where(ip_r < 0.5, pool[rng.integers(0, len(pool), k)], home[loc])
        device, tier, kind = ent.devices(m)[loc], T_TEST, K_TEST
    pop["created"][members] = aged
    blocks.append(session_block(k, user=members[loc], t=t, device=device, ip=ip, order=order,
                                 addr=addr, pay=pay, tier=tier, ring=r, fraud=typ,
                                 kind=kind))
    # Accounts registered inside the window have a signup session from their first device.
    first = np.unique(loc, return_index=True)[1]
    new = aged[loc[first]] >= t0
    su = loc[first][new]
    blocks.append(session_block(len(su), user=members[su], device=device[first][new],
                                 t=aged[su] + rng.integers(10_000, 2 * MINUTE, len(su)),
                                 ip=home[su], kind=K_SIGNUP))
    return blocks




# The basket each default ring type buys (a tier).
BASKET = {FARM: T_NORMAL, PROXY: T_NORMAL, PROMO: T_CHEAP, CARD: T_TEST, ATO: T_PREMIUM}


def default_world(rng: np.random.Generator, users: int, t0: int, t1: int) -> World:
    """The default mode: population, fake-account rings and takeovers, every session."""
    rings = plan_rings(rng, users, t0, t1)
    pop = population(rng, users, t0, t1)
    members = assign_members(rng, pop, rings, t0)
    ring_of = np.full(users, -1, dtype=np.int64)
    end_cap = np.full(users, t1, dtype=np.int64)
    for r, mem in enumerate(members):
        ring_of[mem] = r
        if rings["type"][r] == ATO:  # the victim's own history stops before the takeover
            end_cap[mem] = rings["start"][r] - HOUR
    real = (ring_of < 0) | (rings["type"][ring_of] == ATO)
    ent = Entities()
    st = legit_structures(rng, pop, real, ent)
    blocks = [legit_sessions(rng, pop, st, real, end_cap, t0, t1)]
    for r, mem in enumerate(members):
        blocks += ring_sessions(rng, r, int(rings["type"][r]), mem, int(rings["start"][r]),
                                int(rings["end"][r]), pop, st, ent, t0)
    ses = concat_sessions(blocks)
    rings["basket"] = np.array([BASKET[int(t)] for t in rings["type"]], dtype=np.int64)
    rings["active_at_end"] = np.zeros(len(members), dtype=np.int64)
    fraud_of = np.where(ring_of >= 0, rings["type"][ring_of], -1)
    return World(pop, ses, ent, fraud_of, ring_of, rings, RING_TYPES)
