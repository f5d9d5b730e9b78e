"""Hard-mode fraud rings: real accounts, rotating shared devices and IPs, card/address chains.

Members are accounts of the legitimate population with their own history (takeover victims,
seasoned accounts of a farm, mules), except promotion abusers, who register just before they
order. Their ring sessions mostly pass through IPs legit users use (mobile-carrier NAT,
residential proxies = somebody's home), a ring device serves at most three accounts, and most
rings link their members only through the cards and addresses they share, in a small tree
(diameter 4-6 hops user - entity - user). What remains to find: the ring's orders are
synchronized within hours across the chain, at the legit time of day, in waves spread over
days; ring cards are used by several accounts in a short window; devices are fresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from graph_build.generate.common import (
    Arrays,
    Entities,
    random_ips,
    session_block,
)
from graph_build.generate.constants import (
    ATO,
    BUST,
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
    T_NORMAL,
    T_PREMIUM,
    T_TEST,
)
from graph_build.generate.profile import CHAIN_TYPES, HardProfile

PAY_SLOT, ADDR_SLOT = 0, 1
MIN_SPAN_DAYS, MAX_SPAN_DAYS = 4, 12  # wave days apart: 2-14 days of activity whatever the hour


@dataclass
class Context:
    """What ring and lone fraud sessions draw on: the legit world and the window."""

    pop: Arrays
    st: Arrays
    ent: Entities
    t0: int
    t1: int
    prof: HardProfile
    tod: np.ndarray  # ms into the day of legit orders: fraud keeps the legit daily rhythm

    def time_of_day(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """``k`` times of day (ms) drawn from the legit orders' own daily profile."""
        return self.tod[rng.integers(0, len(self.tod), k)]

    def legit_ips(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """IPs legit users use: carrier NAT, or a random user's home (a residential proxy)."""
        carrier = self.st["carrier_ips"].ravel()
        users = len(self.pop["home_ip"])
        return np.where(rng.random(k) < 0.5, carrier[rng.integers(0, len(carrier), k)],
                        self.pop["home_ip"][rng.integers(0, users, k)])


@dataclass
class RingOutput:
    """A ring's sessions, the legit sessions it replaces and the accounts it registers."""

    blocks: list[Arrays]
    drop: tuple[np.ndarray, np.ndarray, np.ndarray]  # users, from, to: legit sessions removed
    created: tuple[np.ndarray, np.ndarray]  # users, new ``created`` (promotion accounts)


def quota(weights: dict[int, float], n: int) -> np.ndarray:
    """``n`` items split by ``weights`` with the largest-remainder rule (exact shares)."""
    keys = np.array(list(weights))
    exact = np.array(list(weights.values())) / sum(weights.values()) * n
    count = np.floor(exact).astype(np.int64)
    count[np.argsort(-(exact - count), kind="stable")[: n - count.sum()]] += 1
    return np.repeat(keys, count)


def plan_hard_rings(rng: np.random.Generator, users: int, days: int, p: HardProfile) -> Arrays:
    """Sizes, types, first and last active day, active-at-end flag and basket of each ring."""
    target = rng.uniform(*p.ring_member_share) * users
    sizes = np.clip(3 + np.floor(rng.lognormal(np.log(2.5), 0.8, int(target) + 8)), 3, 50)
    n = max(2, int(np.searchsorted(np.cumsum(sizes), target)) + 1)
    sizes = sizes[:n].astype(np.int64)
    n_drift = max(1, round(p.drift_share * n))
    types = rng.permutation(np.concatenate([quota(p.type_weights, n - n_drift),
                                            np.full(n_drift, BUST)]))
    sizes = np.where(np.isin(types, CHAIN_TYPES), np.minimum(sizes, p.max_chain_size), sizes)
    active = types == BUST  # the drift tactic starts late and is still going at the end
    extra = max(math.ceil(p.active_end_share * n) - n_drift, 0)
    active[rng.permutation(np.flatnonzero(~active))[:extra]] = True
    lo = np.array([max(MIN_SPAN_DAYS, math.ceil(p.span_days[t][0])) for t in types])
    hi = np.array([min(MAX_SPAN_DAYS, math.floor(p.span_days[t][1])) for t in types])
    span = rng.integers(lo, np.maximum(lo, hi) + 1)
    last_day, drift_day = days - 1, math.ceil((1 - p.drift_window) * days)
    span = np.where(types == BUST, np.minimum(span, last_day - drift_day), span)
    # Seasoned rings start after their members' history; promotion rings need none.
    late = rng.permutation(np.flatnonzero(~active & (types != PROMO)))
    seasoned = np.zeros(n, dtype=bool)
    seasoned[late[: round(p.seasoned_share * len(late))]] = True
    first_lo = np.where(seasoned, math.ceil(p.history_days) + 2, 3)
    first_hi = np.maximum(last_day - 3 - span, first_lo)  # over 3 days before the end
    first = first_lo + (rng.random(n) * (first_hi - first_lo + 1)).astype(np.int64)
    first = np.where(active, last_day - span, first)
    basket = np.where(types == CARD, T_TEST, T_NORMAL)
    busts = np.flatnonzero(types == BUST)
    basket[busts[: int(p.premium_bust_share * len(busts))]] = T_PREMIUM
    order = np.argsort(first, kind="stable")
    return {"size": sizes[order], "type": types[order], "first_day": first[order],
            "last_day": (first + span)[order], "active_at_end": active[order].astype(np.int64),
            "basket": basket[order], "seasoned": seasoned[order]}


def _chain(rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Groups (2-5, of up to 5 members) and their leaders: leaders share one link entity."""
    n_groups = int(np.clip(math.ceil(m / 4), 2, 5))
    group = rng.permutation(np.arange(m) % n_groups)
    leader = np.zeros(m, dtype=bool)
    leader[np.unique(group, return_index=True)[1]] = True
    return group, leader


def _participation(rng: np.random.Generator, m: int, waves: int, leader: np.ndarray,
                   most: int) -> np.ndarray:
    """Which member orders in which wave: everyone once, leaders twice, nobody over ``most``.

    Few ring orders per member: with their legit history, members' order counts stay in
    the legit range.
    """
    key = rng.random((m, waves))
    need = np.where(leader, 2, 1)
    want = np.clip(rng.binomial(waves, 0.5, m), need, most)
    rank = np.argsort(np.argsort(key, axis=1), axis=1)
    part = rank < want[:, None]
    for w in (0, waves - 1):  # the first and the last wave happen: the span is as planned
        if not part[:, w].any():
            part[rng.integers(0, m), w] = True
    return part


def hard_ring_sessions(rng: np.random.Generator, r: int, ring: dict[str, int],
                       members: np.ndarray, ctx: Context) -> RingOutput:
    """One ring's sessions in waves of synchronized orders; the legit sessions they replace."""
    p, st, ent, t0, t1 = ctx.prof, ctx.st, ctx.ent, ctx.t0, ctx.t1
    typ, m = ring["type"], len(members)
    n_waves = int(rng.integers(p.waves[0], p.waves[1] + 1))
    days = np.sort(np.concatenate([[ring["first_day"], ring["last_day"]], rng.integers(
        ring["first_day"], ring["last_day"] + 1, n_waves - 2)]))
    centre = np.clip(t0 + days * DAY + ctx.time_of_day(rng, n_waves), t0 + 3 * HOUR,
                     t1 - 3 * HOUR)
    chain = typ in CHAIN_TYPES
    group, leader = _chain(rng, m) if chain else (np.zeros(m, np.int64), np.zeros(m, bool))
    part = _participation(rng, m, n_waves, leader, p.max_member_waves)
    pi, pw = np.nonzero(part)
    seq = np.cumsum(part, axis=1)[pi, pw] - 1  # a member's n-th wave
    # Rows: orders (card testers try a card twice now and then) and some browsing before.
    reps = 1 + ((typ == CARD) & (rng.random(len(pi)) < 0.5))
    row = np.repeat(np.arange(len(pi)), reps)
    sub = np.arange(len(row)) - np.repeat(np.cumsum(reps) - reps, reps)
    browse = np.flatnonzero(rng.random(len(pi)) < 0.5)
    row = np.concatenate([row, browse])
    is_order = np.arange(len(row)) < len(row) - len(browse)
    i, w = pi[row], pw[row]
    jitter = np.clip(rng.normal(0, p.wave_jitter_h * HOUR, len(row)), -2 * HOUR, 2 * HOUR)
    t = centre[w] + jitter.astype(np.int64)
    n_ord = len(sub)
    t[:n_ord] += sub * rng.integers(3 * MINUTE, 20 * MINUTE, n_ord)  # the second try
    t[~is_order] = centre[w[~is_order]] - rng.integers(HOUR, 6 * HOUR, len(browse))
    t = np.clip(t, t0 + MINUTE, t1 - HOUR)
    u, k = members[i], len(row)
    # Devices: fresh ring devices (at most three accounts each) or the member's own.
    fresh, personal = ent.devices(m), st["dev"][members, 0]
    r_dev = rng.random(k)
    if typ == FARM:
        farm = ent.devices(math.ceil(m / p.max_device_users))
        ent.farm_devices.append(farm)
        of = farm[rng.permutation(m) // p.max_device_users]
        device = np.where(r_dev < 0.75, of[i], personal[i])
    elif typ in (PROMO, ATO):  # a new account's only device; the attacker's, per victim
        device = fresh[i]
    else:
        share = p.fresh_device if chain else 0.4
        device = np.where(r_dev < share, fresh[i], personal[i])
    # IPs: mostly those legit users use; device/IP-linked rings add a few of their own.
    # Residential proxies are sticky: each member keeps two exits for the whole episode.
    sticky = ctx.legit_ips(rng, 2 * m).reshape(m, 2)
    pool_ip, r_ip = sticky[i, rng.integers(0, 2, k)], rng.random(k)
    if typ in (FARM, PROXY):
        n_own = 2 if typ == FARM else int(rng.integers(2, 5))
        own = random_ips(rng, 1) & ~0xFF | rng.choice(np.arange(1, 255), n_own, replace=False)
        ip = np.where(r_ip < p.mixed_legit_ip, pool_ip, own[rng.integers(0, n_own, k)])
        ip[np.unique(i, return_index=True)[1]] = own[0]  # everyone passes the main exit once
    elif typ == PROMO:
        ip = pool_ip
    else:
        ip = np.where(r_ip < 0.25, ctx.pop["home_ip"][u], pool_ip)
    # Cards and addresses: own ones (new for new accounts and device/IP rings), then the chain.
    if typ == PROMO:
        pay, addr = ent.payments(members)[i], ent.addresses(members)[i]
    elif typ in (FARM, PROXY):
        pay, addr = ent.payments(members)[i], st["addr"][u, 0]
    else:
        pay, addr = st["pay"][u, 0], st["addr"][u, 0]
    if chain:
        pay, addr = _chain_entities(rng, typ, members, group, leader, i, seq[row], pay, addr,
                                    ent)
    kind = np.full(k, K_TEST if typ == CARD else K_NORMAL)
    kind[~is_order] = K_NORMAL
    blocks = [session_block(k, user=u, t=t, device=device, ip=ip, order=is_order,
                            addr=np.where(is_order, addr, -1), pay=np.where(is_order, pay, -1),
                            tier=ring["basket"], ring=r, fraud=typ, kind=kind)]
    first_t = np.full(m, t1, dtype=np.int64)
    last_t = np.zeros(m, dtype=np.int64)
    np.minimum.at(first_t, i, t)
    np.maximum.at(last_t, i, t)
    drop = (members[:0], first_t[:0], first_t[:0])
    created = (members[:0], first_t[:0])
    if typ == ATO:  # the crew takes the account over first; the victim is locked out a while
        t_to = first_t - rng.integers(10 * MINUTE, HOUR, m)
        blocks.append(session_block(m, user=members, t=t_to, device=fresh,
                                    ip=ctx.legit_ips(rng, m), ring=r, fraud=typ,
                                    kind=K_TAKEOVER))
        drop = (members, t_to - HOUR, last_t + rng.integers(DAY, 5 * DAY, m))
    elif typ == PROMO:  # registered minutes to hours before their first move
        born = first_t - rng.integers(5 * MINUTE, 3 * HOUR, m)
        blocks.append(session_block(m, user=members, device=fresh, ip=ctx.legit_ips(rng, m),
                                    t=born + rng.integers(10_000, 2 * MINUTE, m),
                                    kind=K_SIGNUP))
        drop = (members, np.full(m, -1), np.full(m, t1 + DAY))
        created = (members, born)
    return RingOutput(blocks, drop, created)


def _chain_entities(rng: np.random.Generator, typ: int, members: np.ndarray,
                    group: np.ndarray, leader: np.ndarray, i: np.ndarray, seq: np.ndarray,
                    pay: np.ndarray, addr: np.ndarray,
                    ent: Entities) -> tuple[np.ndarray, np.ndarray]:
    """Put each row's group card / address (or, every other wave of a leader, the link)."""
    if typ == CARD:
        kinds = (PAY_SLOT, PAY_SLOT)
    elif typ == ATO:
        kinds = (ADDR_SLOT, ADDR_SLOT)
    else:
        g = int(rng.integers(0, 2))
        kinds = (g, 1 - g)
    heads = members[np.unique(group, return_index=True)[1]]
    made = []
    for kind, owners in zip(kinds, (heads, heads[:1]), strict=True):
        made.append(ent.payments(owners) if kind == PAY_SLOT else ent.addresses(owners))
    if typ == CARD:  # stolen cards from one or two BIN ranges
        ent.pay_bins.append((np.concatenate(made), rng.integers(0, 1 << 30,
                                                                 rng.integers(1, 3))))
    link = leader[i] & (seq % 2 == 1)
    ent_id = np.where(link, made[1][0], made[0][group[i]])
    slot = np.where(link, kinds[1], kinds[0])
    return (np.where(slot == PAY_SLOT, ent_id, pay), np.where(slot == ADDR_SLOT, ent_id, addr))
