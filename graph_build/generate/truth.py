"""Ground truth (``truth/``) and the observed labels table of a generated folder.

``truth/users.csv``, ``truth/orders.csv`` and ``truth/rings.csv`` keep their first columns
(readers rely on them) and add the fraud type, the observed label and when it was known.
``truth/labels.csv`` is the canonical ``labels`` table (``entity, id, is_fraud, labeled_at``):
the fraud reports the shop had received by the end of the window, times in epoch ms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from graph_build.generate.common import Arrays, World
from graph_build.generate.constants import FRAUD_TYPES, HARD_RING_TYPES, K_SIGNUP, TIER_NAMES
from graph_build.generate.labels import Labels
from graph_build.generate.writer import Col, make_ids, pool, write_table

LINKS = ("shared", "chain")


def ring_spans(world: World, ev: Arrays, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
    """A ring's span: its members' first to last fraudulent event (signups excluded)."""
    n = len(world.rings["type"])
    ev_ring = world.ses["ring"][ev["sid"]]
    act = (ev_ring >= 0) & (world.ses["kind"][ev["sid"]] != K_SIGNUP)
    start = np.full(n, t1, dtype=np.int64)
    end = np.full(n, t0, dtype=np.int64)
    np.minimum.at(start, ev_ring[act], ev["ts"][act])
    np.maximum.at(end, ev_ring[act], ev["ts"][act])
    return start, end


def ring_links(world: World) -> np.ndarray:
    """Per ring: 1 (chain) when no two members share a device, or an IP nobody else uses."""
    ses, n = world.ses, len(world.rings["type"])
    ring, user = ses["ring"], ses["user"]
    fraud = ring >= 0
    shared = np.zeros(n, dtype=bool)
    for col in ("device", "ip"):
        ent = ses[col]
        if col == "ip":  # an IP outsiders use too is the legit graph's, not the ring's link
            outside = np.unique(ent[~fraud & (world.fraud_of[user] < 0)])
            own = ~np.isin(ent, outside)
        else:
            own = np.ones(len(ent), dtype=bool)
        sel = fraud & own
        pairs = np.unique(np.stack([ring[sel], ent[sel], user[sel]]), axis=1)
        keys, counts = np.unique(pairs[:2], axis=1, return_counts=True)
        shared[keys[0][counts > 1]] = True
    return (~shared).astype(np.int64)


def truth_tables(world: World, ev: Arrays, oi: np.ndarray, u_rows: np.ndarray,
                 uid: pa.Array, oid: pa.Array, labels: Labels, t0: int,
                 t1: int) -> dict[str, dict[str, Col]]:
    """``truth/`` tables and the ``labels`` table, as columns for :func:`write_table`.

    Args:
        world: the planned population, rings and sessions.
        ev: the events (``sid``, ``ts``).
        oi: the session of each order (orders in id order).
        u_rows: user row of each user id (users in id order).
        uid: user ids, indexed by user row; oid: order ids, by order number.
        labels: observed labels per user row and per order number.
        t0: window start; t1: window end (epoch ms).
    """
    rings, n_rings = world.rings, len(world.rings["type"])
    o_ring, o_fraud = world.ses["ring"][oi], world.ses["fraud"][oi]
    u_ring, u_fraud = world.ring_of[u_rows], world.fraud_of[u_rows]
    ring_ids, types, ftypes = (make_ids("r", np.arange(n_rings)), pool(HARD_RING_TYPES),
                               pool(FRAUD_TYPES))
    r_start, r_end = ring_spans(world, ev, t0, t1)
    n_orders = len(oi)

    u_label, u_at = labels.user_fraud[u_rows], labels.user_at[u_rows]
    users: dict[str, Col] = {
        "user_id": (uid, u_rows), "is_fraud": ("num", (u_fraud >= 0).astype(np.int64)),
        "ring_id": (ring_ids, u_ring),
        "ring_type": (types, np.where(u_ring >= 0, rings["type"][u_ring], -1)),
        "fraud_type": (ftypes, u_fraud), "labeled_fraud": ("num", u_label.astype(np.int64)),
        "labeled_at": ("num?", u_at)}
    orders: dict[str, Col] = {
        "order_id": (oid, np.arange(n_orders)),
        "is_fraud": ("num", (o_fraud >= 0).astype(np.int64)), "ring_id": (ring_ids, o_ring),
        "fraud_type": (ftypes, o_fraud),
        "labeled_fraud": ("num", labels.order_fraud.astype(np.int64)),
        "labeled_at": ("num?", labels.order_at)}
    ring_table: dict[str, Col] = {
        "ring_id": (ring_ids, np.arange(n_rings)), "ring_type": (types, rings["type"]),
        "size": ("num", rings["size"]), "start_ms": ("num", r_start), "end_ms": ("num", r_end),
        "link": (pool(LINKS), ring_links(world)), "basket": (pool(TIER_NAMES), rings["basket"]),
        "active_at_end": ("num", rings["active_at_end"])}
    # The labels table: reports known by the end of the window, users first, then by time.
    known_u = np.flatnonzero(labels.user_fraud & (labels.user_at <= t1))
    known_o = np.flatnonzero(labels.order_fraud & (labels.order_at <= t1))
    known_u = known_u[np.argsort(labels.user_at[known_u], kind="stable")]
    known_o = known_o[np.argsort(labels.order_at[known_o], kind="stable")]
    ids = pa.concat_arrays([uid.take(pa.array(known_u)), oid.take(pa.array(known_o))])
    entity = np.repeat([0, 1], [len(known_u), len(known_o)])
    table: dict[str, Col] = {
        "entity": (pool(("user", "order")), entity), "id": (ids, np.arange(len(ids))),
        "is_fraud": (pool(("true",)), np.zeros(len(ids), dtype=np.int64)),
        "labeled_at": ("num", np.concatenate([labels.user_at[known_u],
                                              labels.order_at[known_o]]))}
    return {"users": users, "orders": orders, "rings": ring_table, "labels": table}


def write_truth(out: Path, tables: dict[str, dict[str, Col]]) -> None:
    """Write ``truth/*.csv`` (always CSV: small, read by people and scripts)."""
    for name, columns in tables.items():
        write_table(out / "truth" / f"{name}.csv", "csv", columns)
