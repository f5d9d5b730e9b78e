"""A new order's reasons on the fast path equal ``build_reasons`` on the merged graph."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from graph_build import schema


@pytest.fixture(scope="module")
def flagged_state(built_store, serve_scorer):
    """The cached state with a third of the users flagged (shared-entity reasons appear)."""
    from graphgnn.api.fast_reasons import flagged_per_entity
    from graphgnn.api.snapshot_cache import build_state

    state = build_state(built_store, serve_scorer, None)
    users = state.out.fs.frames.keys("User").astype(str).to_numpy()
    flagged = set(users[np.random.default_rng(2).random(len(users)) < 0.35])
    state = dataclasses.replace(state, flagged={"User": flagged})
    state.flagged_entities = flagged_per_entity(state)
    return state


def test_fast_order_reasons_equal_build_reasons(flagged_state, serve_scorer):
    from graphgnn.api.fast_order import merged_frames, score_new_order
    from graphgnn.api.fast_path import order_frames
    from graphgnn.api.fast_reasons import order_reasons
    from graphgnn.api.schemas import OrderRequest
    from graphgnn.scores.reasons import build_reasons

    state = flagged_state
    g = state.out.fs.frames
    orders = g.rels["SHIPPED_TO"].merge(g.rels["PLACED"], left_on="src", right_on="dst",
                                        suffixes=("", "_u"))
    # Mostly addresses that two or more flagged users already share, some that they do not.
    rows = g.keys("Address").astype(str).reset_index(drop=True)
    busy = set(rows[state.flagged_entities["Address"] >= 2])
    pool = [orders[orders["dst"].astype(str).isin(busy)], orders]
    rng = np.random.default_rng(4)
    shared = 0
    for i in range(10):
        part = pool[int(i % 4 == 3)]
        row = part.iloc[int(rng.integers(len(part)))]
        user = str(row["src_u"]) if i % 3 else f"new-{i}"
        body = {"order_id": f"zz-reason-{i}", "user_id": user,
                "created_at": int(state.as_of), "amount": 50.0 + 90 * i,
                "address_id": str(row["dst"]), "ip": f"198.51.100.{i}",
                "device_id": str(g.keys("Device").iloc[i])}
        req = OrderRequest(**body)
        ans = score_new_order(state, serve_scorer, req, req.created_at)
        ours = order_reasons(state, serve_scorer, ans.req, ans.rows, ans.x, ans.score)
        key = schema.node("Order").key
        frame = pd.DataFrame(np.asarray(ans.x, np.float64)[None, :],
                             columns=serve_scorer.feature_names["Order"])
        frame.insert(0, "anomaly_score", [ans.score])
        frame.insert(0, key, [req.order_id])
        full = merged_frames(state, order_frames(state, req))
        expected = build_reasons(full, {"Order": frame},
                                 {"User": state.flagged["User"], "Order": {req.order_id}},
                                 serve_scorer.feature_names)["Order"][req.order_id]
        assert ours == expected, (body, ours, expected)
        shared += any("used by" in line for line in ours)
    assert shared >= 3, "too few orders with shared-entity reasons to test them"
