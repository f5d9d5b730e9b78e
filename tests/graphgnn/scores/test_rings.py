"""Rings: suspicion graph, components, Louvain split, stable ids, closing, write-back."""

from __future__ import annotations

import pandas as pd
import pytest

from graph_build.frames import GraphFrames

DAY = 86_400_000


def _links(rows):
    return pd.DataFrame(rows, columns=["user_id", "kind", "entity", "t"])


def test_components_window_and_hubs():
    from graphgnn.scores.rings import RingOptions, detect_rings

    rows = [(f"u{i}", "device", "d1", i * DAY) for i in range(4)]          # ring of 4
    rows += [("v1", "IP", "ip1", 0), ("v2", "IP", "ip1", 90 * DAY),         # outside window
             ("v3", "IP", "ip1", 200 * DAY)]
    rows += [(f"h{i}", "IP", "hub", 0) for i in range(150)]                 # hub IP: ignored
    links = _links(rows)
    scores = {u: 0.9 for u in [f"u{i}" for i in range(4)] + ["v1", "v2", "v3"]
              + [f"h{i}" for i in range(150)]}
    rings = detect_rings(links, scores, RingOptions(window_ms=30 * DAY, max_entity_users=100))
    assert [r.members for r in rings] == [["u0", "u1", "u2", "u3"]]
    ring = rings[0]
    assert ring.first_seen == 0 and ring.last_seen == 3 * DAY
    assert ring.shared == ["device d1 (4)"]
    assert 0 < ring.score <= 0.9


def test_unflagged_users_do_not_link():
    from graphgnn.scores.rings import detect_rings

    links = _links([(f"u{i}", "card", "c1", 0) for i in range(5)])
    rings = detect_rings(links, {"u0": 0.9, "u1": 0.8})  # only two flagged: below min size
    assert rings == []


def test_large_component_is_split_by_louvain():
    from graphgnn.scores.rings import RingOptions, detect_rings

    rows = []
    for g in range(3):  # three dense groups of 30 joined by one weak bridge each
        members = [f"g{g}_{i}" for i in range(30)]
        for e in range(3):
            rows += [(m, "device", f"d{g}_{e}", 0) for m in members]
        rows.append((members[0], "IP", f"bridge{g}", 0))
        rows.append((f"g{(g + 1) % 3}_0", "IP", f"bridge{g}", 0))
    links = _links(rows)
    scores = {u: 0.8 for u in links["user_id"].unique()}
    rings = detect_rings(links, scores, RingOptions(max_component=50))
    assert sorted(r.size for r in rings) == [30, 30, 30]
    again = detect_rings(links, scores, RingOptions(max_component=50))
    assert [r.members for r in rings] == [r.members for r in again]  # fixed seed


def test_ids_stay_stable_and_dissolved_rings_close():
    from graphgnn.scores.rings import Ring, match_rings, ring_id_for

    def ring(members):
        return Ring(members=sorted(members), score=0.5, first_seen=0, last_seen=0)

    previous = {"ring-a": {"u1", "u2", "u3", "u4"}, "ring-b": {"x1", "x2", "x3"}}
    rings = [ring(["u1", "u2", "u3", "u4", "u5"]), ring(["z1", "z2", "z3"])]
    closed = match_rings(rings, previous)
    assert rings[0].ring_id == "ring-a" and rings[0].status == "kept"      # Jaccard 0.8
    assert rings[1].ring_id == ring_id_for(["z1", "z2", "z3"]) and rings[1].status == "new"
    assert closed == ["ring-b"]
    # below half overlap: a new ring, the old one closes
    rings = [ring(["u1", "u7", "u8", "u9"])]
    assert match_rings(rings, {"ring-a": {"u1", "u2", "u3", "u4"}}) == ["ring-a"]
    assert rings[0].ring_id.startswith("ring-") and rings[0].ring_id != "ring-a"


def _frames(users, shares):
    """A tiny graph: users sharing devices as given by ``shares`` {device: [users]}."""
    frames = GraphFrames()
    frames.nodes["User"] = pd.DataFrame({"user_id": users, "created_at": 0})
    rows = [(u, d, 0) for d, us in shares.items() for u in us]
    frames.rels["USED_DEVICE"] = pd.DataFrame(rows, columns=["src", "dst", "first_seen"])
    return frames


def test_update_rings_in_store_keeps_ids_and_closes(empty_store):
    from graphgnn.scores.rings import update_rings

    store = empty_store
    users = [f"u{i}" for i in range(10)]
    store.write_rows("UNWIND $rows AS row CREATE (u:User {user_id: row.k, anomaly_score: 0.9})",
                     [{"k": u} for u in users])
    store.write("MATCH (u:User) SET u:Flagged")
    first = update_rings(store, _frames(users, {"d1": users[:4], "d2": users[5:9]}), "run1", 1)
    assert first.open == 2 and first.new == 2
    ids = {tuple(r.members): r.ring_id for r in first.rings}
    # one ring grows by a member, the other dissolves
    second = update_rings(store, _frames(users, {"d1": users[:5]}), "run2", 2)
    assert second.open == 1 and second.kept == 1 and second.closed == 1
    kept = second.rings[0]
    assert kept.ring_id == ids[tuple(users[:4])]
    rows = store.read("MATCH (r:FraudRing) RETURN r.ring_id AS id, r.size AS size, "
                      "r.prev_size AS prev, r.closed_at AS closed, r.grown_at AS grown, "
                      "r.detected_at AS det, r.score_run AS run ORDER BY id")
    by_id = {r["id"]: r for r in rows}
    assert len(rows) == 2  # closed ring kept, not deleted
    assert by_id[kept.ring_id]["size"] == 5 and by_id[kept.ring_id]["prev"] == 4
    assert by_id[kept.ring_id]["grown"] == 2 and by_id[kept.ring_id]["det"] == 1
    closed_id = ids[tuple(users[5:9])]
    assert by_id[closed_id]["closed"] == 2
    members = store.read("MATCH (u:User)-[:MEMBER_OF]->(r:FraudRing {ring_id: $id}) "
                         "RETURN u.user_id AS u, u.ring_id AS rid", {"id": kept.ring_id})
    assert sorted(m["u"] for m in members) == users[:5]
    assert all(m["rid"] == kept.ring_id for m in members)
    left = store.read("MATCH (u:User) WHERE u.ring_id IS NOT NULL RETURN count(u) AS c")
    assert left[0]["c"] == 5  # members of the closed ring lost their ring_id
    from graph_build import cypher

    grew = store.read(cypher.render("investigate/rings_grew"), {"since": 0})
    assert [g["ring_id"] for g in grew] == [kept.ring_id]


@pytest.mark.parametrize("min_size", [2, 3])
def test_min_size(min_size):
    from graphgnn.scores.rings import RingOptions, detect_rings

    links = _links([("a", "device", "d", 0), ("b", "device", "d", 0)])
    rings = detect_rings(links, {"a": 1.0, "b": 1.0}, RingOptions(min_size=min_size))
    assert len(rings) == (1 if min_size == 2 else 0)
