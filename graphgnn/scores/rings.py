"""Fraud rings: clusters of flagged users tied together by what they share.

The suspicion graph links two **suspicious users** — flagged, or at/above the ``min_pct``
percentile of user scores (default 95: the review budget of ``:Flagged`` is usually tighter than
the share of users in rings, and a ring is evidence in itself; ``min_pct=100`` keeps flagged users
only) — when they used the same device, IP, shipping
address or payment method and first did so within ``window_ms`` of each other (an entity shared
months apart is weak evidence). Entities used by more than ``max_entity_users`` users in total
(carrier NAT IPs, office gateways) link nobody: sharing them says nothing. Edge weight = number of
distinct entities a pair shares. Connected components (networkx) of at least ``min_size`` users are
rings; components larger than ``max_component`` are split by Louvain community detection (fixed
seed, so the split is reproducible).

Ring members are **Users only**: they are what investigators act on (orders, devices and IPs
hang off them and the investigator queries show them); keeping one member type makes ring sizes
and overlap-based id matching meaningful.

Ring score = mean member ``anomaly_score`` × (1 − 0.5^(size−1)): pairs are discounted to half,
triples to ¾, rings of 5+ count (almost) fully. In [0, 1].

Stable ids: new rings are matched one-to-one to the previous **open** rings by member Jaccard
(greedy, best first, ≥ ``match_jaccard``); a match keeps its ``ring_id`` and ``detected_at``;
an unmatched new ring gets ``ring-<sha1 of its sorted members>``; previous rings left unmatched
are closed (``closed_at``) and kept with their ``MEMBER_OF`` edges as history — never deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from graph_build import cypher
from graph_build.frames import GraphFrames
from graph_build.stores.base import DEFAULT_BATCH, GraphStore

DAY = 86_400_000
# (relationship, entity kind shown to people) for User -> entity links; orders add theirs.
_USER_LINKS = (("USED_DEVICE", "device"), ("USED_IP", "IP"))
_ORDER_LINKS = (("FROM_DEVICE", "device"), ("FROM_IP", "IP"), ("SHIPPED_TO", "address"),
                ("PAID_WITH", "card"))


@dataclass(frozen=True)
class RingOptions:
    """Knobs of ring detection (defaults suit the generator and real shops alike)."""

    window_ms: int = 30 * DAY
    min_pct: float = 95.0
    min_size: int = 3
    max_component: int = 50
    max_entity_users: int = 100
    match_jaccard: float = 0.5
    seed: int = 42
    resolution: float = 1.0
    shared_shown: int = 5


@dataclass
class Ring:
    """A detected ring (``ring_id`` assigned by :func:`match_rings`)."""

    members: list[str]
    score: float
    first_seen: int
    last_seen: int
    shared: list[str] = field(default_factory=list)
    ring_id: str = ""
    status: str = "new"  # new | kept

    @property
    def size(self) -> int:
        return len(self.members)


def entity_links(frames: GraphFrames) -> pd.DataFrame:
    """Every (user, entity) association with the time it was first seen.

    Returns:
        Frame ``[user_id, kind, entity, t]``, one row per distinct (user, kind, entity), ``t`` the
        earliest time (epoch ms) of the association.
    """
    parts = []
    for rel_type, kind in _USER_LINKS:
        f = frames.rels.get(rel_type)
        if f is not None and len(f):
            parts.append(pd.DataFrame({"user_id": f["src"].astype(str), "kind": kind,
                                       "entity": f["dst"].astype(str),
                                       "t": pd.to_numeric(f["first_seen"], errors="coerce")}))
    placed = frames.rels.get("PLACED")
    if placed is not None and len(placed):
        owner = pd.Series(placed["src"].astype(str).to_numpy(),
                          index=placed["dst"].astype(str).to_numpy())
        owner = owner[~owner.index.duplicated()]
        for rel_type, kind in _ORDER_LINKS:
            f = frames.rels.get(rel_type)
            if f is None or not len(f):
                continue
            users = owner.reindex(f["src"].astype(str).to_numpy())
            ok = users.notna().to_numpy()
            parts.append(pd.DataFrame({
                "user_id": users.to_numpy()[ok], "kind": kind,
                "entity": f["dst"].astype(str).to_numpy()[ok],
                "t": pd.to_numeric(f["created_at"], errors="coerce").to_numpy()[ok]}))
    if not parts:
        return pd.DataFrame({"user_id": [], "kind": [], "entity": [], "t": []})
    links = pd.concat(parts, ignore_index=True)
    links["t"] = links["t"].fillna(0).astype("int64")
    return links.groupby(["user_id", "kind", "entity"], as_index=False, sort=False)["t"].min()


def suspicion_pairs(links: pd.DataFrame, flagged: set[str], options: RingOptions) -> pd.DataFrame:
    """Pairs of flagged users sharing a non-hub entity within the time window.

    Returns:
        Frame ``[a, b, weight, t_min, t_max, entities]`` with ``a < b``; ``entities`` lists the
        shared ``"kind entity"`` strings.
    """
    users_per_entity = links.groupby(["kind", "entity"])["user_id"].transform("size")
    sel = links[links["user_id"].isin(flagged) & (users_per_entity <= options.max_entity_users)]
    sel = sel[sel.groupby(["kind", "entity"])["user_id"].transform("size") >= 2]
    empty = pd.DataFrame({"a": [], "b": [], "weight": [], "t_min": [], "t_max": [],
                          "entities": []})
    if sel.empty:
        return empty
    pairs = sel.merge(sel, on=["kind", "entity"], suffixes=("_a", "_b"))
    pairs = pairs[(pairs["user_id_a"] < pairs["user_id_b"])
                  & ((pairs["t_a"] - pairs["t_b"]).abs() <= options.window_ms)]
    if pairs.empty:
        return empty
    pairs = pairs.assign(t_min=np.minimum(pairs["t_a"], pairs["t_b"]),
                         t_max=np.maximum(pairs["t_a"], pairs["t_b"]),
                         what=pairs["kind"] + " " + pairs["entity"])
    grouped = pairs.groupby(["user_id_a", "user_id_b"], sort=False)
    out = grouped.agg(weight=("what", "nunique"), t_min=("t_min", "min"), t_max=("t_max", "max"),
                      entities=("what", lambda s: sorted(set(s)))).reset_index()
    return out.rename(columns={"user_id_a": "a", "user_id_b": "b"})


def ring_id_for(members: list[str]) -> str:
    digest = hashlib.sha1("\n".join(sorted(members)).encode()).hexdigest()[:12]
    return f"ring-{digest}"


def _ring_score(member_scores: list[float]) -> float:
    size = len(member_scores)
    return round(float(np.mean(member_scores)) * (1.0 - 0.5 ** (size - 1)), 6) if size else 0.0


def detect_rings(links: pd.DataFrame, user_scores: dict[str, float],
                 options: RingOptions | None = None) -> list[Ring]:
    """Rings among the users of ``user_scores`` (the flagged users and their scores)."""
    import networkx as nx

    options = options or RingOptions()
    pairs = suspicion_pairs(links, set(user_scores), options)
    graph = nx.Graph()
    for a, b, w, t0, t1, ents in pairs.itertuples(index=False):
        graph.add_edge(a, b, weight=int(w), t_min=int(t0), t_max=int(t1), entities=ents)
    groups: list[set[str]] = []
    for comp in nx.connected_components(graph):
        if len(comp) > options.max_component:
            sub = graph.subgraph(comp)
            groups += nx.community.louvain_communities(
                sub, weight="weight", resolution=options.resolution, seed=options.seed)
        else:
            groups.append(set(comp))
    rings = []
    for group in groups:
        if len(group) < options.min_size:
            continue
        sub = graph.subgraph(group)
        members = sorted(group)
        counts: dict[str, int] = {}
        for _, _, ents in sub.edges(data="entities"):
            for e in ents:
                counts[e] = counts.get(e, 0) + 1
        # Show an entity with how many members share it (edges of a clique of m: m(m-1)/2).
        shown = []
        for e, n_edges in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            m = int(round((1 + (1 + 8 * n_edges) ** 0.5) / 2))
            shown.append(f"{e} ({m})")
        t_min = [t for _, _, t in sub.edges(data="t_min")]
        t_max = [t for _, _, t in sub.edges(data="t_max")]
        rings.append(Ring(members=members,
                          score=_ring_score([user_scores[m] for m in members]),
                          first_seen=min(t_min) if t_min else 0,
                          last_seen=max(t_max) if t_max else 0,
                          shared=shown[: options.shared_shown]))
    rings.sort(key=lambda r: (-r.score, -r.size, r.members[0]))
    return rings


def match_rings(rings: list[Ring], previous: dict[str, set[str]],
                min_jaccard: float = 0.5) -> list[str]:
    """Give each ring an id (kept from a previous open ring, or new); return ids to close."""
    owner: dict[str, str] = {}
    for rid, members in previous.items():
        for m in members:
            owner[m] = rid
    candidates = []
    for i, ring in enumerate(rings):
        seen = {owner[m] for m in ring.members if m in owner}
        for rid in seen:
            old = previous[rid]
            inter = len(old & set(ring.members))
            jac = inter / len(old | set(ring.members))
            if jac >= min_jaccard:
                candidates.append((jac, i, rid))
    taken_rings: set[int] = set()
    taken_ids: set[str] = set()
    for _jac, i, rid in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if i in taken_rings or rid in taken_ids:
            continue
        rings[i].ring_id, rings[i].status = rid, "kept"
        taken_rings.add(i)
        taken_ids.add(rid)
    for i, ring in enumerate(rings):
        if i not in taken_rings:
            ring.ring_id, ring.status = ring_id_for(ring.members), "new"
    current = {r.ring_id for r in rings}
    return sorted(rid for rid in previous if rid not in taken_ids and rid not in current)


def open_rings(store: GraphStore) -> dict[str, set[str]]:
    """Previous open rings and their members (members may be empty after a crash)."""
    rows = store.read(cypher.render("rings/open_rings"))
    return {r["ring_id"]: {m for m in (r["members"] or []) if m is not None} for r in rows}


def flagged_users(store: GraphStore, min_pct: float = 100.0) -> dict[str, float]:
    """Ring candidates: flagged users and users at or above ``min_pct``, with their scores."""
    rows = store.read(cypher.render("rings/flagged_users"), {"min_pct": float(min_pct)})
    return {r["user_id"]: float(r["score"] or 0.0) for r in rows}


@dataclass
class RingUpdate:
    """What :func:`update_rings` wrote."""

    open: int = 0
    new: int = 0
    kept: int = 0
    closed: int = 0
    rings: list[Ring] = field(default_factory=list)


def write_rings(store: GraphStore, rings: list[Ring], closed: list[str], run_id: str,
                now: int, batch_size: int = DEFAULT_BATCH) -> None:
    """Upsert rings, then memberships, then prune stale ones, then close: each step idempotent,
    so a crash anywhere is repaired by the next run recomputing the same writes."""
    params = {"run_id": run_id, "now": now}
    ring_rows = [{"ring_id": r.ring_id, "size": r.size, "score": r.score,
                  "first_seen": int(r.first_seen), "last_seen": int(r.last_seen),
                  "shared": r.shared, "members": r.members} for r in rings]
    store.write_rows(cypher.render("rings/upsert_rings"), ring_rows, batch_size, params=params)
    member_rows = [{"user_id": m, "ring_id": r.ring_id} for r in rings for m in r.members]
    store.write_rows(cypher.render("rings/set_members"), member_rows, batch_size, params=params)
    store.write_rows(cypher.render("rings/drop_stale_members"), ring_rows, 1000)
    if closed:
        store.write(cypher.render("rings/close_rings"), {"ring_ids": closed, "now": now})
    # Last: it reads the memberships and closings above. (It used to test every user against
    # a list of all members: quadratic, a minute and a half at 100k users.)
    store.write(cypher.render("rings/clear_ring_ids"))


def update_rings(store: GraphStore, frames: GraphFrames, run_id: str, now: int,
                 options: RingOptions | None = None,
                 log: Callable[[str], None] | None = None) -> RingUpdate:
    """Recompute every ring from the currently flagged users and write them back."""
    options = options or RingOptions()
    scores = flagged_users(store, options.min_pct)
    rings = detect_rings(entity_links(frames), scores, options)
    closed = match_rings(rings, open_rings(store), options.match_jaccard)
    write_rings(store, rings, closed, run_id, now)
    update = RingUpdate(open=len(rings), new=sum(r.status == "new" for r in rings),
                        kept=sum(r.status == "kept" for r in rings), closed=len(closed),
                        rings=rings)
    if log:
        log(f"rings: {update.open} open ({update.new} new, {update.kept} kept), "
            f"{update.closed} closed, from {len(scores):,} suspicious users")
    return update
