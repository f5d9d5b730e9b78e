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
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph_build.schema import TABLES
from graph_build.table_writer import Col, ip_strings, iso, make_ids, pool, write_table

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
WINDOW_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: fixed so output depends on args only
MIN_USERS, MAX_USERS, MIN_DAYS, MAX_DAYS = 1_000, 1_000_000, 7, 3_650
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
    n_addr: int = 0
    n_pay: int = 0
    addr_owner: list[np.ndarray] = field(default_factory=list)
    pay_owner: list[np.ndarray] = field(default_factory=list)
    farm_devices: list[np.ndarray] = field(default_factory=list)  # one device model per farm
    pay_bins: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # card pools

    def devices(self, k: int) -> np.ndarray:
        self.n_dev += int(k)
        return np.arange(self.n_dev - int(k), self.n_dev)

    def addresses(self, owners: np.ndarray) -> np.ndarray:
        self.addr_owner.append(np.asarray(owners, dtype=np.int64))
        self.n_addr += len(owners)
        return np.arange(self.n_addr - len(owners), self.n_addr)

    def payments(self, owners: np.ndarray) -> np.ndarray:
        self.pay_owner.append(np.asarray(owners, dtype=np.int64))
        self.n_pay += len(owners)
        return np.arange(self.n_pay - len(owners), self.n_pay)


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
    first, last = t0 + 3 * DAY, t1 - span - 4 * HOUR
    start = (first + rng.random(n_rings) * np.maximum(last - first, 0)).astype(np.int64)
    order = np.argsort(start, kind="stable")
    return {"size": sizes[order], "type": types[order], "start": start[order],
            "end": start[order] + span[order]}


def _population(rng: np.random.Generator, n: int, t0: int, t1: int) -> dict[str, np.ndarray]:
    """User attributes from the legit distributions (fraud accounts get them too: camouflage)."""
    old = rng.random(n) < 0.55
    age = rng.exponential(400 * DAY, n) % (8 * 365 * DAY)  # wrap, not clip: no spike at 8y
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
    start = np.maximum(created, t0) + 10_000  # a login precedes its session by seconds
    last = t1 - HOUR  # leaves room for the session's clicks and checkout inside the window
    end = np.where(rng.random(n) < 0.2, start + rng.random(n) * (last - start), last)
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
    if typ in (FARM, PROXY):  # they pay with their own (stolen or prepaid) cards
        pay, addr = ent.payments(members)[loc], ent.addresses(members)[loc]
    if typ == FARM:  # a handful of devices (one model) run many accounts
        dev = ent.devices(int(np.clip(round(m / rng.uniform(3, 8)), 1, 6)))
        ent.farm_devices.append(dev)
        uplink = _random_ips(rng, rng.integers(1, 3))
        device = dev[rng.integers(0, len(dev), k)]
        ip = np.where(ip_r < 0.4, uplink[rng.integers(0, len(uplink), k)], home[loc])
    elif typ == PROXY:  # own devices, but every session through a small proxy pool
        n_ip = int(np.clip(m // 3 + 2, 2, 12))
        pool = (_random_ips(rng, 1) & ~0xFF | rng.choice(np.arange(1, 255), n_ip, replace=False)
                if rng.random() < 0.7 else _random_ips(rng, n_ip))
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
    blocks.append(_session_block(len(su), user=members[su], device=device[first][new],
                                 t=aged[su] + rng.integers(10_000, 2 * MINUTE, len(su)),
                                 ip=home[su], kind=K_SIGNUP))
    return blocks


def _events(rng: np.random.Generator, ses: dict[str, np.ndarray],
            t1: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Events of every session (sorted by time) and each session's checkout time."""
    S, t, kind, order = len(ses["t"]), ses["t"], ses["kind"], ses["order"].astype(bool)
    login = rng.random(S) < np.array([0.45, 1.0, 1.0, 0.3])[kind]
    n_cart = np.where(order, 1 + _pick(rng, (0.45, 0.3, 0.15, 0.1), S),
                      np.minimum(rng.poisson(0.5, S), 4))
    n_cart = np.where(kind == K_TEST, order, n_cart)
    reset = rng.random(S) < np.array([0.01, 0.0, 0.6, 0.0])[kind]
    profile = rng.random(S) < np.array([0.03, 0.5, 0.8, 0.0])[kind]
    # Card testers check out within seconds; people browse for minutes.
    checkout = t + np.where(kind == K_TEST, rng.integers(20_000, 3 * MINUTE, S),
                            rng.integers(3 * MINUTE, 30 * MINUTE, S))
    cart, _ = _expand(n_cart)
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


def _products(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Catalogue with category-dependent, heavy-tailed prices and Zipf-like popularity."""
    cat = rng.integers(0, len(CATEGORIES), n)
    raw = np.exp(rng.normal(np.array(CAT_LOG_PRICE)[cat], 0.8))
    price = np.clip(np.floor(raw) + 0.99, 0.99, 2999.99)
    return {"category": cat, "price": price, "popularity": rng.pareto(1.2, n) + 0.05}


def _order_items(rng: np.random.Generator, tier: np.ndarray,
                 prod: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Lines per order (1-4, quantity 1-3); the tier picks cheap / premium / any products."""
    n_items = np.where(tier == T_TEST, 1 + (rng.random(len(tier)) < 0.3),
                       1 + _pick(rng, (0.55, 0.25, 0.12, 0.08), len(tier)))
    own, _ = _expand(n_items)
    qty = np.where(tier[own] == T_TEST, 1, 1 + _pick(rng, (0.82, 0.13, 0.05), len(own)))
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


def _check_args(users: int, seed: int, days: int, fmt: str) -> None:
    if not MIN_USERS <= users <= MAX_USERS:
        raise ValueError(f"--users must be between {MIN_USERS:,} and {MAX_USERS:,} (got {users:,})")
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"--days must be between {MIN_DAYS} and {MAX_DAYS} (got {days})")
    if seed < 0:
        raise ValueError(f"--seed must be >= 0 (got {seed})")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"--format must be csv or parquet (got {fmt!r})")


def _entity_tables(rng: np.random.Generator, ent: _Entities, pop: dict[str, np.ndarray],
                   ses: dict[str, np.ndarray]
                   ) -> tuple[dict[str, dict[str, Col]], dict[str, pa.Array]]:
    """Devices (only those seen), addresses and payments, each listed by a random public id.

    Returns the three tables and the id strings (``device``, ``address``, ``payment``, ``ip``)
    that ``ses["device"]`` / ``ses["addr"]`` / ``ses["pay"]`` / ``ses["ip"]`` index into; the
    device and ip columns of ``ses`` are rewritten in place to do so.
    """
    used = np.unique(ses["device"])
    dev_os, dev_browser = _pick(rng, OS_P, len(used)), _pick(rng, BROWSER_P, len(used))
    for farm in ent.farm_devices:  # a farm runs one phone model
        pos = np.searchsorted(used, farm)
        pos = pos[used[np.minimum(pos, len(used) - 1)] == farm]
        dev_os[pos], dev_browser[pos] = dev_os[pos[0]], dev_browser[pos[0]]
    ip_values, ses["ip"] = np.unique(ses["ip"], return_inverse=True)
    ses["device"] = np.searchsorted(used, ses["device"])
    addr_owner, pay_owner = np.concatenate(ent.addr_owner), np.concatenate(ent.pay_owner)
    n_addr, n_pay = len(addr_owner), len(pay_owner)
    addr_country = np.where(rng.random(n_addr) < 0.95, pop["country"][addr_owner],
                            _pick(rng, COUNTRY_P, n_addr))
    postcodes = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 100_000, n_addr)), pa.string()),
                             width=5, padding="0")
    kind = _pick(rng, PAY_KIND_P, n_pay)
    bins = (np.array([4, 5, 3])[_pick(rng, (0.55, 0.35, 0.10), 400)] * 100_000
            + rng.integers(0, 100_000, 400))
    pay_bin = _pick(rng, 1.0 / np.arange(1, 401) ** 1.1, n_pay)  # a few issuers dominate
    for cards, ring_bins in ent.pay_bins:  # card testers work through one or two BIN ranges
        kind[cards] = 0
        pay_bin[cards] = ring_bins[rng.integers(0, len(ring_bins), len(cards))] % 400
    issuer = np.where(rng.random(n_pay) < 0.9, pop["country"][pay_owner],
                      _pick(rng, COUNTRY_P, n_pay))
    # Public ids in a random order: internally fraud rings are allocated last.
    d_rows, a_rows, p_rows = (rng.permutation(k) for k in (len(used), n_addr, n_pay))
    ids = {"device": make_ids("d", np.argsort(d_rows)),
           "address": make_ids("a", np.argsort(a_rows)),
           "payment": make_ids("pm", np.argsort(p_rows)), "ip": ip_strings(ip_values)}
    countries = pool(COUNTRIES)
    return {
        "devices": {"device_id": (ids["device"], d_rows), "os": (pool(OS), dev_os[d_rows]),
                    "browser": (pool(BROWSERS), dev_browser[d_rows])},
        "addresses": {"address_id": (ids["address"], a_rows),
                      "country": (countries, addr_country[a_rows]),
                      "postcode": (postcodes, a_rows)},
        "payments": {"payment_id": (ids["payment"], p_rows),
                     "kind": (pool(PAY_KINDS), kind[p_rows]),
                     "bin": (pc.cast(pa.array(bins), pa.string()),
                             np.where(kind[p_rows] == 0, pay_bin[p_rows], -1)),
                     "issuer_country": (countries, issuer[p_rows])},
    }, ids


def generate(out: str | Path, users: int = 5000, seed: int = 0, days: int = 90,
             fmt: str = "csv", progress: Callable[[str], None] | None = None
             ) -> GeneratedSummary:
    """Write the canonical tables, ``truth/`` and ``generator.json`` into ``out``.

    Args:
        out: folder to write (created; existing generated files are replaced).
        users: number of user accounts, 1,000 .. 1,000,000.
        seed: seed of the only random source; identical arguments give identical bytes.
        days: length of the observed window starting 2026-01-01T00:00:00Z (7 .. 3,650).
        fmt: ``csv`` or ``parquet`` for the canonical tables (``truth/`` is always CSV).
        progress: called with a short message before each stage.

    Returns:
        Rows per table, number of rings (and per type), fraud users and fraud orders.
    """
    _check_args(users, seed, days, fmt)
    say = progress or (lambda _msg: None)
    out = Path(out)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t0, t1 = WINDOW_START_MS, WINDOW_START_MS + days * DAY

    say("population and rings")
    rings = _plan_rings(rng, users, t0, t1)
    pop = _population(rng, users, t0, t1)
    members = _assign_members(rng, pop, rings, t0)
    ring_of = np.full(users, -1, dtype=np.int64)
    end_cap = np.full(users, t1, dtype=np.int64)
    for r, mem in enumerate(members):
        ring_of[mem] = r
        if rings["type"][r] == ATO:  # the victim's own history stops before the takeover
            end_cap[mem] = rings["start"][r] - HOUR
    real = (ring_of < 0) | (rings["type"][ring_of] == ATO)
    ent = _Entities()
    st = _legit_structures(rng, pop, real, ent)

    say("sessions")
    blocks = [_legit_sessions(rng, pop, st, real, end_cap, t0, t1)]
    for r, mem in enumerate(members):
        blocks += _ring_sessions(rng, r, int(rings["type"][r]), mem, int(rings["start"][r]),
                                 int(rings["end"][r]), pop, st, ent, t0)
    ses = {k: np.concatenate([b[k] for b in blocks]) for k in SESSION_FIELDS}
    del blocks

    say("events, orders and items")
    ev, checkout = _events(rng, ses, t1)
    oi = np.flatnonzero(ses["order"])
    o_time = np.minimum(checkout[oi] + rng.integers(1_000, 10_000, len(oi)), t1 - 1)
    by_time = np.argsort(o_time, kind="stable")  # order ids follow time, like a real shop's
    oi, o_time = oi[by_time], o_time[by_time]
    o_addr = np.where(rng.random(len(oi)) < 0.03, -1, ses["addr"][oi])  # digital goods
    prod = _products(rng, int(np.clip(users // 20, 300, 50_000)))
    items = _order_items(rng, ses["tier"][oi], prod)
    status = _pick(rng, STATUS_P, len(oi))
    say("devices, addresses, payments")
    entity_tables, ids = _entity_tables(rng, ent, pop, ses)

    # Users are numbered by signup, orders by time: ids carry no trace of how they were made.
    u_rows = np.argsort(pop["created"], kind="stable")
    u_rank = np.empty(users, dtype=np.int64)
    u_rank[u_rows] = np.arange(users)
    n_prod = len(prod["price"])
    uid = make_ids("u", u_rank)
    oid, prid = make_ids("o", np.arange(len(oi))), make_ids("p", np.arange(n_prod))
    ev_s, ipid, did = ev["sid"], ids["ip"], ids["device"]
    countries = pool(COUNTRIES)
    tables: dict[str, dict[str, Col]] = {
        "users": {"user_id": (uid, u_rows), "created_at": ("time", pop["created"][u_rows]),
                  "country": (countries, pop["country"][u_rows]),
                  "email_domain": (pool(EMAIL_DOMAINS), pop["email"][u_rows])},
        "devices": entity_tables["devices"],
        "products": {"product_id": (prid, np.arange(n_prod)),
                     "category": (pool(CATEGORIES), prod["category"]),
                     "price": ("num", prod["price"])},
        "addresses": entity_tables["addresses"],
        "payments": entity_tables["payments"],
        "events": {"user_id": (uid, ses["user"][ev_s]), "ts": ("time", ev["ts"]),
                   "device_id": (did, ses["device"][ev_s]), "ip": (ipid, ses["ip"][ev_s]),
                   "event_type": (pool(EVENT_TYPES), ev["type"])},
        "orders": {"order_id": (oid, np.arange(len(oi))), "user_id": (uid, ses["user"][oi]),
                   "created_at": ("time", o_time), "amount": ("num", items["amount"]),
                   "status": (pool(STATUSES), status), "device_id": (did, ses["device"][oi]),
                   "ip": (ipid, ses["ip"][oi]), "address_id": (ids["address"], o_addr),
                   "payment_id": (ids["payment"], ses["pay"][oi])},
        "order_items": {"order_id": (oid, items["order"]), "product_id": (prid, items["product"]),
                        "quantity": ("num", items["quantity"]), "price": ("num", items["price"])},
    }
    counts = {}
    for name, columns in tables.items():
        assert tuple(columns) == TABLES[name].column_names, name
        say(f"writing {name}")
        counts[name] = write_table(out / f"{name}.{fmt}", fmt, columns)

    say("writing truth")
    o_ring, u_ring = ses["ring"][oi], ring_of[u_rows]
    ring_ids, types = make_ids("r", np.arange(len(members))), pool(RING_TYPES)
    # A ring's span: its members' first to last fraudulent event (signups excluded).
    ev_ring = ses["ring"][ev_s]
    act = (ev_ring >= 0) & (ses["kind"][ev_s] != K_SIGNUP)
    r_start = np.full(len(members), t1, dtype=np.int64)
    r_end = np.full(len(members), t0, dtype=np.int64)
    np.minimum.at(r_start, ev_ring[act], ev["ts"][act])
    np.maximum.at(r_end, ev_ring[act], ev["ts"][act])
    truth: dict[str, dict[str, Col]] = {
        "users": {"user_id": (uid, u_rows), "is_fraud": ("num", (u_ring >= 0).astype(np.int64)),
                  "ring_id": (ring_ids, u_ring),
                  "ring_type": (types, np.where(u_ring >= 0, rings["type"][u_ring], -1))},
        "orders": {"order_id": (oid, np.arange(len(oi))),
                   "is_fraud": ("num", (o_ring >= 0).astype(np.int64)),
                   "ring_id": (ring_ids, o_ring)},
        "rings": {"ring_id": (ring_ids, np.arange(len(members))),
                  "ring_type": (types, rings["type"]), "size": ("num", rings["size"]),
                  "start_ms": ("num", r_start), "end_ms": ("num", r_end)},
    }
    for name, columns in truth.items():
        write_table(out / "truth" / f"{name}.csv", "csv", columns)

    summary = GeneratedSummary(
        out=str(out), counts=counts, rings=len(members),
        fraud_users=int((ring_of >= 0).sum()), fraud_orders=int((o_ring >= 0).sum()),
        ring_types={t: int((rings["type"] == i).sum()) for i, t in enumerate(RING_TYPES)})
    meta = {"generator": "fraudring.graph_build.generate", "users": users, "seed": seed,
            "days": days, "format": fmt, "start": iso(np.array([t0]))[0].as_py(),
            "end": iso(np.array([t1]))[0].as_py(), "start_ms": t0, "end_ms": t1,
            **{k: v for k, v in summary.as_dict().items() if k != "out"}}
    (out / "generator.json").write_text(json.dumps(meta, indent=2) + "\n")
    say("done")
    return summary


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``generate`` subcommand's options to ``parser``."""
    parser.add_argument("--out", required=True, help="folder to write the tables into")
    parser.add_argument("--users", type=int, default=5000,
                        help=f"number of users, {MIN_USERS:,}..{MAX_USERS:,} (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--days", type=int, default=90,
                        help="days of activity from 2026-01-01 (default 90, at least 7)")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv",
                        help="file format of the tables (default csv)")


def run_generate(args: argparse.Namespace) -> int:
    """Run :func:`generate` from parsed arguments; a one-line summary goes to stderr."""
    s = generate(args.out, users=args.users, seed=args.seed, days=args.days, fmt=args.format)
    print(f"generated {s.counts['users']:,} users, {s.counts['orders']:,} orders, "
          f"{s.counts['events']:,} events; {s.rings} rings, {s.fraud_users:,} fraud users, "
          f"{s.fraud_orders:,} fraud orders -> {s.out}", file=sys.stderr)
    return 0
