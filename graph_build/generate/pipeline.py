"""``generate``: plan a world (default or hard mode), then derive and write every table.

The planning stage differs by mode (``rings.default_world``, ``hard.hard_world``); the back
half — sessions to events, orders and lines, entity tables, ids, truth and labels — is shared,
so fraud and legit activity of both modes go through the same code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from graph_build.generate.activity import events, order_items, products
from graph_build.generate.common import World, pick
from graph_build.generate.constants import (
    CATEGORIES,
    COUNTRIES,
    DAY,
    EMAIL_DOMAINS,
    EVENT_TYPES,
    HARD_MIN_DAYS,
    MAX_DAYS,
    MAX_USERS,
    MIN_DAYS,
    MIN_USERS,
    STATUS_P,
    STATUSES,
    WINDOW_START_MS,
)
from graph_build.generate.entities import entity_tables
from graph_build.generate.labels import LabelProfile, Labels, observe_labels
from graph_build.generate.rings import default_world
from graph_build.generate.truth import truth_tables, write_truth
from graph_build.generate.writer import Col, iso, make_ids, pool, write_table
from graph_build.schema import TABLES

# Default labels arrive within days and are right; hard-mode labels are late and noisy.
DEFAULT_LABELS = LabelProfile(delay_median_days=7.0)
HARD_LABELS = LabelProfile(delay_median_days=30.0, delay_sigma=0.6, missed_fraud=0.15,
                           false_fraud=0.002)
LABEL_STREAM = 0x1ABE1  # the labels' own random stream: they never shift the tables' draws


@dataclass
class GeneratedSummary:
    """What :func:`generate` wrote: rows per table, rings, fraud users and orders."""

    out: str
    counts: dict[str, int] = field(default_factory=dict)
    rings: int = 0
    fraud_users: int = 0
    fraud_orders: int = 0
    ring_types: dict[str, int] = field(default_factory=dict)
    hard: bool = False
    lone_fraud_users: int = 0
    labelled_users: int = 0

    def as_dict(self) -> dict[str, object]:
        """The summary as plain data (``generator.json`` holds it)."""
        return asdict(self)


def check_args(users: int, seed: int, days: int, fmt: str, hard: bool = False) -> None:
    """Raise ``ValueError`` (worded for the command line) on arguments out of range."""
    if not MIN_USERS <= users <= MAX_USERS:
        raise ValueError(f"--users must be between {MIN_USERS:,} and {MAX_USERS:,} (got {users:,})")
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"--days must be between {MIN_DAYS} and {MAX_DAYS} (got {days})")
    if hard and days < HARD_MIN_DAYS:
        raise ValueError(f"--hard needs --days of at least {HARD_MIN_DAYS} (got {days}): "
                         "ring members have 30 days of history before they strike")
    if seed < 0:
        raise ValueError(f"--seed must be >= 0 (got {seed})")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"--format must be csv or parquet (got {fmt!r})")


def generate(out: str | Path, users: int = 5000, seed: int = 0, days: int = 90,
             fmt: str = "csv", progress: Callable[[str], None] | None = None,
             hard: bool = False) -> GeneratedSummary:
    """Write the canonical tables, ``truth/`` and ``generator.json`` into ``out``.

    Args:
        out: folder to write (created; existing generated files are replaced).
        users: number of user accounts, 1,000 .. 1,000,000.
        seed: seed of the only random source; identical arguments give identical bytes.
        days: length of the observed window starting 2026-01-01T00:00:00Z (7 .. 3,650;
            at least 60 in hard mode).
        fmt: ``csv`` or ``parquet`` for the canonical tables (``truth/`` is always CSV).
        progress: called with a short message before each stage.
        hard: the benchmark mode (DESIGN §5): ring members with legit histories tied into the
            legit graph, rotating shared devices and IPs, card/address chains, half the fraud
            lone, late and noisy labels, drift; default: the demo mode.

    Returns:
        Rows per table, number of rings (and per type), fraud users and fraud orders.
    """
    check_args(users, seed, days, fmt, hard)
    say = progress or (lambda _msg: None)
    out = Path(out)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t0, t1 = WINDOW_START_MS, WINDOW_START_MS + days * DAY

    say("population, rings and sessions")
    if hard:
        from graph_build.generate.hard import hard_world

        world = hard_world(rng, users, t0, t1)
    else:
        world = default_world(rng, users, t0, t1)
    ses, pop = world.ses, world.pop

    say("events, orders and items")
    ev, checkout = events(rng, ses, t1)
    oi = np.flatnonzero(ses["order"])
    o_time = np.minimum(checkout[oi] + rng.integers(1_000, 10_000, len(oi)), t1 - 1)
    by_time = np.argsort(o_time, kind="stable")  # order ids follow time, like a real shop's
    oi, o_time = oi[by_time], o_time[by_time]
    digital = rng.random(len(oi)) < 0.03  # digital goods ship nowhere
    if world.physical is not None:  # rings resell goods: their addresses always appear
        digital &= ~world.physical[oi]
    o_addr = np.where(digital, -1, ses["addr"][oi])
    prod = products(rng, int(np.clip(users // 20, 300, 50_000)))
    items = order_items(rng, ses["tier"][oi], prod)
    status = pick(rng, STATUS_P, len(oi))
    say("devices, addresses, payments")
    ent_tables, ids = entity_tables(rng, world.ent, pop, ses)

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
        "devices": ent_tables["devices"],
        "products": {"product_id": (prid, np.arange(n_prod)),
                     "category": (pool(CATEGORIES), prod["category"]),
                     "price": ("num", prod["price"])},
        "addresses": ent_tables["addresses"],
        "payments": ent_tables["payments"],
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
    labels = _labels(seed, hard, world, oi, o_time, t1)
    write_truth(out, truth_tables(world, ev, oi, u_rows, uid, oid, labels, t0, t1))
    o_fraud = ses["fraud"][oi] >= 0
    summary = GeneratedSummary(
        out=str(out), counts=counts, rings=len(world.rings["type"]),
        fraud_users=int((world.fraud_of >= 0).sum()), fraud_orders=int(o_fraud.sum()),
        ring_types={t: int((world.rings["type"] == i).sum())
                    for i, t in enumerate(world.ring_types)},
        hard=hard, lone_fraud_users=int(((world.fraud_of >= 0) & (world.ring_of < 0)).sum()),
        labelled_users=int((labels.user_fraud & (labels.user_at <= t1)).sum()))
    meta = {"generator": "fraudring.graph_build.generate", "users": users, "seed": seed,
            "days": days, "format": fmt, "start": iso(np.array([t0]))[0].as_py(),
            "end": iso(np.array([t1]))[0].as_py(), "start_ms": t0, "end_ms": t1,
            **{k: v for k, v in summary.as_dict().items() if k != "out"}}
    (out / "generator.json").write_text(json.dumps(meta, indent=2) + "\n")
    say("done")
    return summary


def _labels(seed: int, hard: bool, world: World, oi: np.ndarray, o_time: np.ndarray,
            t1: int) -> Labels:
    """Observed labels of every user and order (their own random stream)."""
    rng = np.random.default_rng([seed, LABEL_STREAM])
    ses = world.ses
    is_fraud = world.fraud_of >= 0
    first = np.full(len(is_fraud), t1, dtype=np.int64)
    fraud_ses = ses["fraud"] >= 0
    np.minimum.at(first, ses["user"][fraud_ses], ses["t"][fraud_ses])
    return observe_labels(rng, HARD_LABELS if hard else DEFAULT_LABELS, is_fraud, first,
                          ses["user"][oi], ses["fraud"][oi] >= 0, o_time)
