"""Reasons: shared entities with flagged neighbours first, then feature deviations; 1-5 each."""

from __future__ import annotations

import pandas as pd

from graph_build.frames import GraphFrames


def test_describe_feature():
    from graphgnn.scores.reasons import describe_feature

    assert describe_feature("orders_24h") == "orders in last 24h"
    assert describe_feature("n_distinct_ips_7d") == "distinct IPs in last 7d"
    assert describe_feature("account_age") == "account age"


def _graph():
    frames = GraphFrames()
    users = [f"u{i}" for i in range(10)]
    frames.nodes["User"] = pd.DataFrame({"user_id": users, "created_at": 0})
    dev = [(u, "d81", 0) for u in users[:7]] + [("u9", "d9", 0)]
    frames.rels["USED_DEVICE"] = pd.DataFrame(dev, columns=["src", "dst", "first_seen"])
    frames.rels["PLACED"] = pd.DataFrame({"src": ["u0", "u1"], "dst": ["o1", "o2"],
                                          "created_at": 0})
    frames.rels["SHIPPED_TO"] = pd.DataFrame({"src": ["o1", "o2"], "dst": ["a1", "a1"],
                                              "created_at": 0})
    return frames, users


def test_reasons_for_users_orders_and_devices():
    from graphgnn.scores.reasons import build_reasons

    frames, users = _graph()
    scores = {
        "User": pd.DataFrame({"user_id": users, "anomaly_score": [0.9] * 7 + [0.1, 0.1, 0.8],
                              "orders_24h": [5.1] + [0.0] * 9, "age": [-3.0] + [0.1] * 9}),
        "Order": pd.DataFrame({"order_id": ["o1", "o2"], "anomaly_score": [0.9, 0.2]}),
        "Device": pd.DataFrame({"device_id": ["d81", "d9"], "anomaly_score": [0.9, 0.1]}),
    }
    flagged = {"User": set(users[:7]) | {"u9"}, "Order": {"o1"}, "Device": {"d81"}}
    out = build_reasons(frames, scores, flagged)
    u0 = out["User"]["u0"]
    assert u0[0] == "shares device d81 with 6 flagged users"
    assert "orders in last 24h 5.1σ above typical" in u0
    assert "age 3.0σ below typical" in u0
    assert 1 <= len(u0) <= 5
    # a flagged user with nothing notable still gets a reason
    assert out["User"]["u9"] == ["score ranks 3 of 10 User nodes"] or \
        out["User"]["u9"][0].startswith("score ranks")
    assert out["Order"]["o1"] == ["shipped to address a1 used by 2 flagged users"]
    assert out["Device"]["d81"] == ["used by 7 flagged users (of 7)"]
    assert set(out["User"]) == flagged["User"]  # flagged nodes only


def test_reasons_capped_at_five():
    from graphgnn.scores.reasons import build_reasons

    frames, users = _graph()
    cols = {f"f{i}_1h": [9.0] * 10 for i in range(8)}
    scores = {"User": pd.DataFrame({"user_id": users, "anomaly_score": 0.9, **cols})}
    out = build_reasons(frames, scores, {"User": set(users)})
    assert all(1 <= len(v) <= 5 for v in out["User"].values())


def test_explained_candidates_get_reasons_naming_the_entity():
    from graphgnn.scores.reasons import build_reasons

    frames, users = _graph()
    scores = {"User": pd.DataFrame({"user_id": users, "anomaly_score": 0.5})}
    # u0 is flagged; u1 (not flagged, a ring candidate) is explained too
    out = build_reasons(frames, scores, {"User": {"u0"}}, explain={"User": {"u1", "u2"}})
    assert set(out["User"]) == {"u0", "u1", "u2"}
    assert out["User"]["u1"][0] == ("shares device d81 with 1 flagged user and 1 other "
                                    "high-scoring user")
    assert out["User"]["u0"][0] == "shares device d81 with 2 high-scoring users"


def test_feature_reasons_are_relative_to_the_runs_population():
    """A shift every node shares (an age scored as of a later clock) is no reason; a real
    outlier among the same population is."""
    import numpy as np

    from graphgnn.scores.reasons import build_reasons

    n = 200
    rng = np.random.default_rng(0)
    frames = GraphFrames()
    keys = [f"d{i}" for i in range(n)]
    age = 6.0 + rng.normal(0, 0.3, n)  # everyone "6σ above typical" by training statistics
    users = rng.normal(0, 1, n)
    users[0] = 8.0
    scores = {"Device": pd.DataFrame({"device_id": keys, "anomaly_score": 0.5, "age": age,
                                      "users_30d": users})}
    out = build_reasons(frames, scores, {"Device": {"d0", "d1"}})
    assert not any("age" in r for rs in out["Device"].values() for r in rs), out
    assert any(r.startswith("users 30d") or "users" in r for r in out["Device"]["d0"]), out


def test_planted_ring_members_are_told_what_their_ring_shares(generated_dir):
    """For >= 80% of planted ring members, the reasons name an entity (device, IP, card or
    address) that two or more members of the same planted ring really share; every flagged
    node and every explained ring member has at least one reason."""
    from fake_scorer import FakeScorer

    from graph_build import read_frames, schema
    from graphgnn.scores.reasons import build_reasons
    from graphgnn.scores.rings import entity_links
    from graphgnn.scores.scoring import Threshold

    frames = read_frames(generated_dir)
    scores = FakeScorer().score(frames)
    flagged = {label: set(f[schema.node(label).key][Threshold().flags(
        f["anomaly_score"].to_numpy())].astype(str)) for label, f in scores.items()}
    truth = pd.read_csv(generated_dir / "truth" / "users.csv", dtype={"user_id": str})
    planted = truth.dropna(subset=["ring_id"])
    ring_of = dict(zip(planted["user_id"], planted["ring_id"], strict=True))
    links = entity_links(frames)
    links = links[links["user_id"].isin(ring_of)].assign(
        ring=lambda f: f["user_id"].map(ring_of))
    per = links.groupby(["ring", "kind", "entity"])["user_id"].transform("nunique")
    shared = links[per >= 2]
    really = {(r, f"{k} {e}") for r, k, e in shared[["ring", "kind", "entity"]]
              .itertuples(index=False)}

    out = build_reasons(frames, scores, flagged, FakeScorer().feature_names,
                        explain={"User": set(ring_of)})
    for label, keys in flagged.items():
        assert all(out[label].get(k) for k in keys), label
    named = 0
    for user, ring in ring_of.items():
        lines = out["User"][user]
        assert lines, user
        if any(any(f" {what} " in f" {line} " for line in lines)
               for r, what in really if r == ring):
            named += 1
    share = named / len(ring_of)
    print(f"planted ring members whose reasons name a shared entity: {named}/{len(ring_of)} "
          f"= {share:.1%}")
    assert len(ring_of) >= 30
    assert share >= 0.8
