"""Small vectorised helpers shared by every stage of the generator."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from graph_build.generate.constants import (
    DAY,
    FIRST_OCTETS,
    HOUR,
    K_NORMAL,
    ORDER_COUNT_P,
    SESSION_FIELDS,
    T_NORMAL,
)

Arrays = dict[str, np.ndarray]


@dataclass
class Entities:
    """Allocates device / address / payment indices and remembers who owns what."""

    n_dev: int = 0
    n_addr: int = 0
    n_pay: int = 0
    addr_owner: list[np.ndarray] = field(default_factory=list)
    pay_owner: list[np.ndarray] = field(default_factory=list)
    farm_devices: list[np.ndarray] = field(default_factory=list)  # one device model per farm
    pay_bins: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # card pools

    def devices(self, k: int) -> np.ndarray:
        """``k`` new device indices."""
        self.n_dev += int(k)
        return np.arange(self.n_dev - int(k), self.n_dev)

    def addresses(self, owners: np.ndarray) -> np.ndarray:
        """New address indices, one per owner (the owner's country becomes the address's)."""
        self.addr_owner.append(np.asarray(owners, dtype=np.int64))
        self.n_addr += len(owners)
        return np.arange(self.n_addr - len(owners), self.n_addr)

    def payments(self, owners: np.ndarray) -> np.ndarray:
        """New payment-method indices, one per owner (the owner's country issues it)."""
        self.pay_owner.append(np.asarray(owners, dtype=np.int64))
        self.n_pay += len(owners)
        return np.arange(self.n_pay - len(owners), self.n_pay)


def pick(rng: np.random.Generator, p: Iterable[float], size: int) -> np.ndarray:
    """Indices drawn from the (normalised) probabilities ``p``."""
    p = np.asarray(tuple(p), dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def random_ips(rng: np.random.Generator, k: int) -> np.ndarray:
    """``k`` random public-looking IPv4 addresses as integers (collisions are harmless)."""
    first = rng.choice(FIRST_OCTETS, k).astype(np.int64) << 24
    return first | (rng.integers(0, 1 << 16, k) << 8) | rng.integers(1, 255, k)


def order_counts(rng: np.random.Generator, k: int, at_least: int = 0) -> np.ndarray:
    """Orders per user from the legit distribution (conditioned on ``>= at_least``)."""
    p = ORDER_COUNT_P.copy()
    p[:at_least] = 0
    return rng.choice(len(p), size=k, p=p / p.sum())


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-owner counts: the owner of each expanded row and its index within the owner."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.arange(len(owner)) - first


def session_block(n: int, **cols: np.ndarray | int) -> Arrays:
    """Sessions with defaults for what the caller leaves out (no order, no ring, legit)."""
    block = {"order": False, "addr": -1, "pay": -1, "tier": T_NORMAL, "ring": -1,
             "kind": K_NORMAL, "fraud": -1} | cols
    return {k: np.broadcast_to(np.asarray(block[k]), (n,)).astype(np.int64)
            for k in SESSION_FIELDS}


def concat_sessions(blocks: list[Arrays]) -> Arrays:
    """One session table from blocks of sessions."""
    return {k: np.concatenate([b[k] for b in blocks]) for k in SESSION_FIELDS}


def legit_time_of_day(rng: np.random.Generator, k: int) -> np.ndarray:
    """Milliseconds into the day of ``k`` sessions with the legit, evening-heavy profile."""
    return (rng.normal(19.5, 4.0, k) % 24 * HOUR).astype(np.int64)


def day_start(t: np.ndarray, t0: int) -> np.ndarray:
    """Midnight (UTC, on the window's day grid) of each time."""
    return t0 + (t - t0) // DAY * DAY


@dataclass
class World:
    """What a mode's planning stage hands to the shared back half (events, tables, truth).

    Attributes:
        pop: per user ``created``, ``country``, ``email``, ``home_ip``.
        ses: every session (``SESSION_FIELDS``); ``ring`` and ``fraud`` mark fraud sessions.
        ent: the allocated devices, addresses and payment methods.
        fraud_of: per user, the fraud type (index of ``FRAUD_TYPES``) or -1 for legit.
        ring_of: per user, the ring or -1.
        rings: per ring ``type``, ``size``, ``basket`` (a tier) and ``active_at_end`` (0/1).
        ring_types: the ring type names this mode uses (for the summary).
        physical: sessions whose orders always ship (never digital goods), or None.
    """

    pop: Arrays
    ses: Arrays
    ent: Entities
    fraud_of: np.ndarray
    ring_of: np.ndarray
    rings: Arrays
    ring_types: tuple[str, ...]
    physical: np.ndarray | None = None
