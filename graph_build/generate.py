"""The built-in generator: synthetic e-commerce tables with planted fraud rings.

It writes the canonical tables (``schema.TABLES``) plus the ground truth (``truth/``) and is
hard in the right way (DESIGN §5): every fraudster's own attributes (country, e-mail domain,
order amounts, number of orders, mostly account age) come from the legitimate distributions, so
no single column separates them; the signal is relational and temporal — devices, IPs,
addresses and cards shared inside a ring, synchronized bursts, fresh accounts ordering fast.
Legitimate look-alikes (households, offices and mobile-carrier NAT sharing IPs, families
sharing a device or a card, bursty shoppers, new users ordering at once) make sharing alone no
proof of guilt.

Everything is vectorised over users, sessions, events and orders; only the (few) rings are
looped over. The legitimate population and the rings both produce *sessions*; events and
orders are derived from sessions in one pass, so both look alike in shape.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from graph_build.schema import TABLES

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
WINDOW_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: fixed so output depends on args only
MIN_USERS, MAX_USERS, MIN_DAYS, MAX_DAYS = 1_000, 1_000_000, 7, 3_650
CHUNK_ROWS = 1_000_000
RING_TYPES = ("device_farm", "proxy_ring", "promo_abuse", "card_testing", "account_takeover")
FARM, PROXY, PROMO, CARD, ATO = range(5)
# Session kinds (which events a session emits) and order tiers (which products it buys).
K_NORMAL, K_SIGNUP, K_TAKEOVER, K_TEST = range(4)
T_NORMAL, T_CHEAP, T_PREMIUM, T_TEST = range(4)

COUNTRIES = ("US", "GB", "DE", "FR", "CA", "ES", "IT", "NL", "BR", "IN", "AU", "PL", "MX")
COUNTRY_P = (0.36, 0.10, 0.09, 0.07, 0.06, 0.05, 0.05, 0.04, 0.05, 0.05, 0.04, 0.02, 0.02)
_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "gmx.de",
         "aol.com", "proton.me", "web.de", "orange.fr", "libero.it", "yandex.com")
_MAIL_P = (0.40, 0.09, 0.08, 0.07, 0.07, 0.03, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02)
# A long tail of company / university domains holds the remaining mass.
EMAIL_DOMAINS = _MAIL + tuple(f"{w}.{tld}" for w in ("acme", "globex", "initech", "umbrella",
                              "stark", "wayne", "uni-north", "uni-south", "hooli", "vandelay")
                              for tld in ("com", "edu", "io"))
EMAIL_P = _MAIL_P + (0.14 / 30,) * 30
OS, OS_P = ("android", "ios", "windows", "macos", "linux"), (0.40, 0.30, 0.18, 0.08, 0.04)
BROWSERS, BROWSER_P = ("chrome", "safari", "edge", "firefox", "samsung"), (.55, .25, .08, .07, .05)
PAY_KINDS, PAY_KIND_P = ("card", "wallet", "bank"), (0.75, 0.18, 0.07)
CATEGORIES = ("electronics", "fashion", "home", "beauty", "books", "toys", "sports", "grocery",
              "garden", "automotive", "health", "jewelry", "pets", "office", "music")
CAT_LOG_PRICE = (4.6, 3.5, 3.6, 3.0, 2.7, 3.1, 3.6, 2.2, 3.4, 3.7, 2.9, 4.2, 3.0, 2.8, 3.2)
ORDER_COUNT_P = np.array([.30, .22, .14, .10, .07, .05, .04, .03, .02, .015, .015])
STATUSES, STATUS_P = ("completed", "cancelled", "refunded"), (0.90, 0.06, 0.04)
EVENT_TYPES = ("login", "session", "add_to_cart", "checkout", "password_reset", "profile_update")
SESSION_FIELDS = ("user", "t", "device", "ip", "order", "addr", "pay", "tier", "ring", "kind")
_FIRST_OCTETS = np.array([o for o in range(1, 224) if o not in (10, 100, 127, 169, 172, 192)])


@dataclass
class GeneratedSummary:
    """What :func:`generate` wrote: rows per table, rings, fraud users and orders."""

    out: str
    counts: dict[str, int] = field(default_factory=dict)
    rings: int = 0
    fraud_users: int = 0
    fraud_orders: int = 0
    ring_types: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class _Entities:
    """Allocates device / address / payment indices and remembers who owns what."""

    n_dev: int = 0
    addr_owner: list[np.ndarray] = field(default_factory=list)
    pay_owner: list[np.ndarray] = field(default_factory=list)
    farm_devices: list[np.ndarray] = field(default_factory=list)  # one device model per farm
    pay_bins: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # card pools

    def devices(self, k: int) -> np.ndarray:
        self.n_dev += int(k)
        return np.arange(self.n_dev - int(k), self.n_dev)

    def _alloc(self, owners: np.ndarray, store: list[np.ndarray]) -> np.ndarray:
        start = sum(len(a) for a in store)
        store.append(np.asarray(owners, dtype=np.int64))
        return np.arange(start, start + len(owners))

    def addresses(self, owners: np.ndarray) -> np.ndarray:
        return self._alloc(owners, self.addr_owner)

    def payments(self, owners: np.ndarray) -> np.ndarray:
        return self._alloc(owners, self.pay_owner)


def _pick(rng: np.random.Generator, p: Iterable[float], size: int) -> np.ndarray:
    """Indices drawn from the (normalised) probabilities ``p``."""
    p = np.asarray(tuple(p), dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _random_ips(rng: np.random.Generator, k: int) -> np.ndarray:
    """``k`` random public-looking IPv4 addresses as integers (collisions are harmless)."""
    first = rng.choice(_FIRST_OCTETS, k).astype(np.int64) << 24
    return first | (rng.integers(0, 1 << 16, k) << 8) | rng.integers(1, 255, k)


def _order_counts(rng: np.random.Generator, k: int, at_least: int = 0) -> np.ndarray:
    """Orders per user from the legit distribution (conditioned on ``>= at_least``)."""
    p = ORDER_COUNT_P.copy()
    p[:at_least] = 0
    return rng.choice(len(p), size=k, p=p / p.sum())


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner counts: the owner of each expanded row and its index within the owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.arange(len(owner)) - first


def _session_block(n: int, **cols: np.ndarray | int) -> dict[str, np.ndarray]:
    """Sessions with defaults for what the caller leaves out (no order, no ring, normal)."""
    block = {"order": False, "addr": -1, "pay": -1, "tier": T_NORMAL, "ring": -1,
             "kind": K_NORMAL} | cols
    return {k: np.broadcast_to(np.asarray(block[k]), (n,)).astype(np.int64)
            for k in SESSION_FIELDS}


def _plan_rings(rng: np.random.Generator, n_users: int, t0: int, t1: int) -> dict[str, np.ndarray]:
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
    first, last = t0 + 3 * DAY, t1 - span - 2 * HOUR
    start = (first + rng.random(n_rings) * np.maximum(last - first, 0)).astype(np.int64)
    order = np.argsort(start, kind="stable")
    return {"size": sizes[order], "type": types[order], "start": start[order],
            "end": start[order] + span[order]}


def _population(rng: np.random.Generator, n: int, t0: int, t1: int) -> dict[str, np.ndarray]:
    """User attributes from the legit distributions (fraud accounts get them too: camouflage)."""
    old = rng.random(n) < 0.55
    age = np.minimum(rng.exponential(400 * DAY, n), 8 * 365 * DAY)
    created = np.where(old, t0 - HOUR - age, t0 + rng.random(n) ** 0.8 * (t1 - t0))
    return {"created": created.astype(np.int64), "country": _pick(rng, COUNTRY_P, n),
            "email": _pick(rng, EMAIL_P, n), "home_ip": _random_ips(rng, n)}


def _assign_members(rng: np.random.Generator, pop: dict[str, np.ndarray],
                    rings: dict[str, np.ndarray], t0: int) -> list[np.ndarray]:
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


def _legit_structures(rng: np.random.Generator, pop: dict[str, np.ndarray], real: np.ndarray,
                      ent: _Entities) -> dict[str, np.ndarray]:
    """Households, offices, mobile carriers, devices, addresses and cards of real accounts."""
    n, idx = len(real), rng.permutation(np.flatnonzero(real))
    s: dict[str, np.ndarray] = {k: np.full(n, -1, dtype=np.int64)
                                for k in ("hh", "office", "hh_dev", "fam_pay")}
    # Households (2-5 people behind one home IP, often one address, some a family device/card).
    hs = 2 + _pick(rng, (0.5, 0.25, 0.15, 0.10), len(idx) // 4 + 1)
    n_hh = int(np.searchsorted(np.cumsum(hs), 0.35 * len(idx)))
    hs, members = hs[:n_hh], idx[: hs[:n_hh].sum()]
    s["hh"][members] = np.repeat(np.arange(n_hh), hs)
    hh_first = members[np.cumsum(hs) - hs]
    pop["home_ip"][members] = _random_ips(rng, n_hh)[s["hh"][members]]
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
    s["office_ip"] = _random_ips(rng, n_off) & ~0xFF | 1
    s["office_nip"] = np.where(rng.random(n_off) < 0.7, 1, rng.integers(2, 5, n_off))
    # Mobile carriers: a small pool of CGNAT IPs per carrier shared by many users.
    pool = max(16, n // 400)
    prefixes = _random_ips(rng, 12).reshape(6, 2) >> 16 << 16
    s["carrier"] = rng.integers(0, 6, n)
    s["carrier_ips"] = prefixes[:, rng.integers(0, 2, pool)] | rng.integers(1, 1 << 16, (6, pool))
    # Own devices (1-3), addresses (1-2; the household's when shared), cards (1-2).
    ndev = 1 + _pick(rng, (0.55, 0.33, 0.12), n)
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


def _legit_sessions(rng: np.random.Generator, pop: dict[str, np.ndarray],
                    st: dict[str, np.ndarray], real: np.ndarray, end_cap: np.ndarray,
                    t0: int, t1: int) -> dict[str, np.ndarray]:
    """Sessions (and which of them end in an order) of real accounts over their active span."""
    idx = np.flatnonzero(real)
    n = len(idx)
    created = pop["created"][idx]
    start = np.maximum(created, t0)
    end = np.where(rng.random(n) < 0.2, start + rng.random(n) * (t1 - start), t1)
    end = np.maximum(np.minimum(end, end_cap[idx]), start + MINUTE).astype(np.int64)
    new = created >= t0
    fast = new & (rng.random(n) < 0.3)  # new users who order right at signup: promo look-alikes
    n_orders = _order_counts(rng, n)
    off = (new & ~fast).astype(np.int64)  # the signup session of other new users has no order
    k = np.clip(np.round(rng.lognormal(np.log(4), 0.8, n)), 1, 25).astype(np.int64)
    k = np.maximum(k, n_orders + off)
    loc, j = _expand(k)
    S, u = len(loc), idx[loc]
    t = start[loc] + (rng.random(S) * (end - start)[loc]).astype(np.int64)
    # Evening-heavy time of day; keep the uniform time where the reshaped one leaves the span.
    tod = (np.clip(rng.normal(19.5, 4.0, S), 0, 23.99) * HOUR).astype(np.int64)
    shaped = t0 + (t - t0) // DAY * DAY + tod
    t = np.where((shaped >= start[loc]) & (shaped <= end[loc]), shaped, t)
    signup = new[loc] & (j == 0)
    t = np.where(signup, created[loc] + rng.integers(0, 2 * MINUTE, S), t)
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
    m = (off_u >= 0) & (r >= 0.03) & (r < 0.28)
    ip[m] = st["office_ip"][off_u[m]] + rng.integers(0, 4, m.sum()) % st["office_nip"][off_u[m]]
    m = (r >= 0.28) & (r < 0.43)
    ip[m] = st["carrier_ips"][st["carrier"][u[m]], rng.integers(0, st["carrier_ips"].shape[1],
                                                                m.sum())]
    m = r < 0.03
    ip[m] = _random_ips(rng, m.sum())
    a2, p2 = st["addr"][u, 1], st["pay"][u, 1]
    addr = np.where((a2 >= 0) & (rng.random(S) < 0.15), a2, st["addr"][u, 0])
    pay = np.where((p2 >= 0) & (rng.random(S) < 0.3), p2, st["pay"][u, 0])
    pay = np.where((st["fam_pay"][u] >= 0) & (rng.random(S) < 0.4), st["fam_pay"][u], pay)
    return _session_block(S, user=u, t=t, device=dev, ip=ip, order=order,
                          addr=np.where(order, addr, -1), pay=np.where(order, pay, -1),
                          kind=np.where(signup, K_SIGNUP, K_NORMAL))


def _ring_sessions(rng: np.random.Generator, r: int, typ: int, members: np.ndarray, s: int,
                   e: int, pop: dict[str, np.ndarray], st: dict[str, np.ndarray],
                   ent: _Entities, t0: int) -> list[dict[str, np.ndarray]]:
    """One ring's synchronized activity; sets its fake accounts' ``created`` times."""
    m = len(members)
    waves = np.sort(s + (rng.random(rng.integers(1, 4)) * (e - s)).astype(np.int64))
    wave = waves[rng.integers(0, len(waves), m)]
    home, blocks = pop["home_ip"][members], []
    if typ == ATO:
        atk_dev = ent.devices(rng.integers(1, 3))
        atk_ip = _random_ips(rng, 1) & ~0xFF | rng.choice(np.arange(1, 255), rng.integers(1, 3),
                                                          replace=False)
        drops = ent.addresses(members[: rng.integers(1, 3)])
        t_to = wave + rng.integers(0, 20 * MINUTE, m)
        blocks.append(_session_block(m, user=members, t=t_to, ring=r, kind=K_TAKEOVER,
                                     device=atk_dev[rng.integers(0, len(atk_dev), m)],
                                     ip=atk_ip[rng.integers(0, len(atk_ip), m)]))
        loc, _ = _expand(rng.integers(1, 4, m))
        k = len(loc)
        blocks.append(_session_block(
            k, user=members[loc], t=t_to[loc] + rng.integers(5 * MINUTE, 90 * MINUTE, k),
            device=atk_dev[rng.integers(0, len(atk_dev), k)], order=True, ring=r,
            ip=atk_ip[rng.integers(0, len(atk_ip), k)], tier=T_PREMIUM,
            addr=drops[rng.integers(0, len(drops), k)], pay=st["pay"][members[loc], 0]))
        return blocks
    aged = np.minimum(pop["created"][members], s - rng.integers(HOUR, 10 * DAY, m))
    n_orders = _order_counts(rng, m, at_least=2 if typ == CARD else 1)
    extra = rng.integers(0, 4, m) if typ in (FARM, PROXY) else 0
    loc, j = _expand(n_orders + extra)
    k, ip_r = len(loc), rng.random(len(loc))
    order, tier, kind = j < n_orders[loc], T_NORMAL, K_NORMAL
    t = wave[loc] + rng.integers(0, 45 * MINUTE, k)
    pay = ent.payments(members)[loc]
    if typ == FARM:  # a handful of devices (one model) run many accounts
        dev = ent.devices(int(np.clip(round(m / rng.uniform(3, 8)), 1, 6)))
        ent.farm_devices.append(dev)
        uplink = _random_ips(rng, rng.integers(1, 3))
        device = dev[rng.integers(0, len(dev), k)]
        ip = np.where(ip_r < 0.4, uplink[rng.integers(0, len(uplink), k)], home[loc])
        addr = ent.addresses(members)[loc]
    elif typ == PROXY:  # own devices, but every session through a small proxy pool
        n_ip = int(np.clip(m // 3 + 2, 2, 12))
        pool = (_random_ips(rng, 1) & ~0xFF | rng.choice(np.arange(1, 255), n_ip, replace=False)
                if rng.random() < 0.7 else _random_ips(rng, n_ip))
        device = ent.devices(m)[loc]
        ip = np.where(ip_r < 0.9, pool[rng.integers(0, n_ip, k)], home[loc])
        addr = ent.addresses(members)[loc]
    elif typ == PROMO:  # fresh accounts, order within hours, cheap, shared drop address/card
        aged = wave - rng.integers(5 * MINUTE, 6 * HOUR, m)
        keep = j < np.minimum(n_orders, 3)[loc]
        loc, j, order = loc[keep], j[keep], order[keep]
        k = len(loc)
        t = wave[loc] + rng.integers(0, 2 * HOUR, k)
        drops, cards = ent.addresses(members[: rng.integers(1, 4)]), ent.payments(members[:2])
        addr = drops[rng.integers(0, len(drops), k)]
        pay = cards[rng.integers(0, rng.integers(1, 3), k)]
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
        pool = _random_ips(rng, rng.integers(1, 4))
        ip = np.where(ip_r < 0.5, pool[rng.integers(0, len(pool), k)], home[loc])
        device, tier, kind = ent.devices(m)[loc], T_TEST, K_TEST
    pop["created"][members] = aged
    blocks.append(_session_block(k, user=members[loc], t=t, device=device, ip=ip, order=order,
                                 addr=addr, pay=pay, tier=tier, ring=r, kind=kind))
    # Accounts registered inside the window have a signup session from their first device.
    first = np.unique(loc, return_index=True)[1]
    new = aged[loc[first]] >= t0
    su = loc[first][new]
    blocks.append(_session_block(len(su), user=members[su], t=aged[su], device=device[first][new],
                                 ip=home[su], kind=K_SIGNUP))
    return blocks
