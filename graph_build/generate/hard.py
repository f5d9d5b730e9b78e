"""The hard mode's world: legit population with look-alikes, then rings and lone fraud in it.

Order matters: the legit population lives first (sessions, look-alikes), so that ring members
and lone fraudsters can be chosen among accounts with the history they need (30 days of legit
activity before a seasoned ring strikes, an old account for a takeover); their fraud sessions
are then added and the legit sessions they replace (a locked-out victim, a promotion account
that never was a real customer) are removed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from graph_build.generate.common import (
    Arrays,
    Entities,
    World,
    concat_sessions,
)
from graph_build.generate.constants import (
    ATO,
    DAY,
    FRIENDLY,
    HARD_RING_TYPES,
    HOUR,
    LONE_ATO,
    PROMO,
    SESSION_FIELDS,
    STOLEN,
)
from graph_build.generate.hard_rings import (
    Context,
    quota,
    hard_ring_sessions,
    plan_hard_rings,
)
from graph_build.generate.lone import friendly_orders, lone_takeovers, stolen_cards
from graph_build.generate.lookalikes import apply_lookalikes, referral_bursts
from graph_build.generate.population import legit_sessions, legit_structures, population
from graph_build.generate.profile import HARD, HardProfile

Eligible = Callable[[np.ndarray], np.ndarray]


def _draw(rng: np.random.Generator, ok: Eligible, k: int, taken: np.ndarray) -> np.ndarray:
    """``k`` random untaken users passing ``ok`` (marked taken); fewer if there are fewer.

    Probes random users first (cheap at a million users); scans everybody only if that fails.
    """
    n = len(taken)
    probe = rng.integers(0, n, 20 * k + 100)
    probe = probe[ok(probe) & ~taken[probe]]
    got = probe[np.sort(np.unique(probe, return_index=True)[1])][:k]
    if len(got) < k:
        everyone = np.arange(n)
        got = rng.permutation(everyone[ok(everyone) & ~taken])[:k]
    taken[got] = True
    return got


def _history(ses: Arrays, n: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
    """Per user: the first legit session and the first legit order (``t1`` when none)."""
    first, first_order = np.full(n, t1, dtype=np.int64), np.full(n, t1, dtype=np.int64)
    np.minimum.at(first, ses["user"], ses["t"])
    o = ses["order"].astype(bool)
    np.minimum.at(first_order, ses["user"][o], ses["t"][o])
    return first, first_order


def _between(rng: np.random.Generator, lo: np.ndarray, hi: int, ctx: Context) -> np.ndarray:
    """A time on a random day in [lo, hi], at the legit time of day (inside the bounds)."""
    t = lo + (rng.random(len(lo)) * np.maximum(hi - lo, 0)).astype(np.int64)
    shaped = ctx.t0 + (t - ctx.t0) // DAY * DAY + ctx.time_of_day(rng, len(lo))
    return np.where((shaped >= lo) & (shaped <= hi), shaped, t)


def hard_world(rng: np.random.Generator, users: int, t0: int, t1: int,
               p: HardProfile = HARD) -> World:
    """Plan the hard mode: population, look-alikes, rings, lone fraud and every session."""
    pop = population(rng, users, t0, t1)
    ent = Entities()
    st = legit_structures(rng, pop, np.ones(users, dtype=bool), ent)
    bursts = referral_bursts(rng, pop, t0)
    legit = legit_sessions(rng, pop, st, np.ones(users, dtype=bool),
                           np.full(users, t1, dtype=np.int64), t0, t1)
    apply_lookalikes(rng, legit, pop, st, ent, bursts, t0, t1)
    first, first_order = _history(legit, users, t1)
    n_orders = np.bincount(legit["user"][legit["order"].astype(bool)], minlength=users)
    created = pop["created"]
    bought = legit["order"].astype(bool)
    ctx = Context(pop, st, ent, t0, t1, p, (legit["t"][bought] - t0) % DAY)
    rings = plan_hard_rings(rng, users, (t1 - t0) // DAY, p)
    taken = np.zeros(users, dtype=bool)
    fraud_of = np.full(users, -1, dtype=np.int64)
    ring_of = np.full(users, -1, dtype=np.int64)
    drop_lo, drop_hi = np.full(users, t1 + DAY, dtype=np.int64), np.zeros(users, np.int64)
    blocks: list[Arrays] = []
    for r in range(len(rings["type"])):
        typ, s = int(rings["type"][r]), t0 + int(rings["first_day"][r]) * DAY
        h = int(p.history_days * DAY) if rings["seasoned"][r] else DAY
        ok: Eligible
        if typ == PROMO:  # accounts of people who would have registered: never real
            def ok(u: np.ndarray) -> np.ndarray:
                return created[u] >= t0
        else:
            def ok(u: np.ndarray, s: int = s, h: int = h, old: bool = typ == ATO) -> np.ndarray:
                ready = ((first[u] <= s - h) & (first_order[u] < s - HOUR) & (created[u] < s - h)
                         & (n_orders[u] <= p.max_member_orders))
                return ready & (created[u] < t0 - 30 * DAY) if old else ready
        members = _draw(rng, ok, int(rings["size"][r]), taken)
        rings["size"][r] = len(members)
        ring_of[members], fraud_of[members] = r, typ
        out = hard_ring_sessions(rng, r, {k: int(v[r]) for k, v in rings.items()}, members, ctx)
        blocks += out.blocks
        drop_lo[out.drop[0]], drop_hi[out.drop[0]] = out.drop[1], out.drop[2]
        pop["created"][out.created[0]] = out.created[1]
    # Lone fraud: at least as many users as the rings have members.
    n_lone = math.ceil(rings["size"].sum() * rng.uniform(*p.lone_per_ring_member))
    n_ato, n_stolen, n_friendly = (np.bincount(quota(dict(enumerate(p.lone_mix)), n_lone),
                                               minlength=3))
    victims = _draw(rng, lambda u: (created[u] < t0 - 30 * DAY) & (first[u] < t1 - 3 * DAY),
                    n_ato, taken)
    when = _between(rng, np.maximum(first[victims] + DAY, t0 + 3 * DAY), t1 - 3 * HOUR, ctx)
    ato_blocks, (vic, lo, hi) = lone_takeovers(rng, victims, when, ctx)
    drop_lo[vic], drop_hi[vic] = lo, hi
    thieves = _draw(rng, lambda u: first[u] < t1 - 2 * DAY, n_stolen, taken)
    when = _between(rng, np.maximum(first[thieves] + HOUR, t0 + 3 * DAY), t1 - 3 * HOUR, ctx)
    blocks += ato_blocks + stolen_cards(rng, thieves, when, ctx)
    fraud_of[victims], fraud_of[thieves] = LONE_ATO, STOLEN
    # Remove what the fraud replaces, then let some customers dispute a delivered order.
    keep = ~((drop_lo[legit["user"]] <= legit["t"]) & (legit["t"] <= drop_hi[legit["user"]]))
    ses = concat_sessions([{k: legit[k][keep] for k in SESSION_FIELDS}] + blocks)
    disputers = _draw(rng, lambda u: first_order[u] < t1, n_friendly, taken)
    ses["fraud"][friendly_orders(rng, ses, disputers)] = FRIENDLY
    fraud_of[disputers] = FRIENDLY
    return World(pop, ses, ent, fraud_of, ring_of, rings, HARD_RING_TYPES,
                 physical=ses["ring"] >= 0)
