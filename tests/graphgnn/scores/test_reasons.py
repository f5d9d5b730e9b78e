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
