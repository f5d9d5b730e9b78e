"""Point-in-time features: nothing after T moves a feature; shapes and values are sane."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from model_data import frames_of

from graph_build import schema
from graphgnn.model.features import HOUR, build_features, cut_frames, max_time


@pytest.fixture(scope="module")
def frames(generated_dir):
    return frames_of(generated_dir)


def _cut_time(frames) -> int:
    return int(np.quantile(frames.nodes["Order"]["created_at"].astype("int64"), 0.6))


def _plant(frames, when: int):
    """Add activity at ``when``: an order (with device, IP, address, card, item) by an existing
    user, a new user, a new device link, and a later observation on an existing link."""
    f = frames_of_copy(frames)
    user = f.nodes["User"]["user_id"].iloc[0]
    dev = f.nodes["Device"]["device_id"].iloc[0]
    ip = f.nodes["IP"]["ip"].iloc[0]
    addr = f.nodes["Address"]["address_id"].iloc[0]
    pay = f.nodes["PaymentMethod"]["payment_id"].iloc[0]
    prod = f.nodes["Product"]["product_id"].iloc[0]

    def add(frame, row):
        return pd.concat([frame, pd.DataFrame([row])], ignore_index=True)

    f.nodes["Order"] = add(f.nodes["Order"], {"order_id": "o_planted", "created_at": when,
                                              "amount": 9999.0, "status": "completed"})
    f.nodes["User"] = add(f.nodes["User"], {"user_id": "u_planted", "created_at": when,
                                            "country": "US", "email_domain": "gmail.com"})
    f.rels["PLACED"] = add(f.rels["PLACED"], {"src": user, "dst": "o_planted",
                                              "created_at": when})
    for rel_type, dst in (("FROM_DEVICE", dev), ("FROM_IP", ip), ("SHIPPED_TO", addr),
                          ("PAID_WITH", pay)):
        f.rels[rel_type] = add(f.rels[rel_type], {"src": "o_planted", "dst": dst,
                                                  "created_at": when})
    f.rels["CONTAINS"] = add(f.rels["CONTAINS"], {"src": "o_planted", "dst": prod, "quantity": 3,
                                                  "price": 50.0, "created_at": when})
    for rel_type, dst in (("USED_DEVICE", dev), ("USED_IP", ip)):
        f.rels[rel_type] = add(f.rels[rel_type], {"src": user, "dst": dst, "first_seen": when,
                                                  "last_seen": when, "count": 1,
                                                  "times": [when]})
        f.rels[rel_type] = add(f.rels[rel_type], {"src": "u_planted", "dst": dst,
                                                  "first_seen": when, "last_seen": when,
                                                  "count": 1, "times": [when]})
    # A later observation on every existing link moves only its whole-history columns.
    for rel_type in ("USED_DEVICE", "USED_IP"):
        f.rels[rel_type]["last_seen"] = when
        f.rels[rel_type]["count"] = f.rels[rel_type]["count"] + 5
    return f


def frames_of_copy(frames):
    import copy

    return copy.deepcopy(frames)


def test_nothing_after_t_moves_a_feature(frames):
    t = _cut_time(frames)
    before = build_features(frames, t)
    after = build_features(_plant(frames, t + HOUR), t)
    for label in schema.NODES:
        pd.testing.assert_frame_equal(before.tables[label], after.tables[label],
                                      check_exact=True, obj=label)
        np.testing.assert_array_equal(before.times[label], after.times[label])
        np.testing.assert_array_equal(before.first_times[label], after.first_times[label])


def test_the_same_activity_before_t_does_move_features(frames):
    """The leakage test is sensitive: planted at T (not after) it changes features."""
    t = _cut_time(frames)
    before = build_features(frames, t)
    after = build_features(_plant(frames, t), t)
    user = before.tables["User"].iloc[0]
    assert not user.equals(after.tables["User"].iloc[0])
    assert len(after.tables["Order"]) == len(before.tables["Order"]) + 1
    assert len(after.tables["User"]) == len(before.tables["User"]) + 1


def test_cut_drops_later_nodes_edges_and_whole_history_columns(frames):
    t = _cut_time(frames)
    cut = cut_frames(frames, t)
    assert (cut.nodes["Order"]["created_at"].astype("int64") <= t).all()
    assert (cut.rels["USED_DEVICE"]["first_seen"].astype("int64") <= t).all()
    for rel_type in ("USED_DEVICE", "USED_IP"):
        assert not {"last_seen", "count", "times"} & set(cut.rels[rel_type].columns)
    placed = set(cut.rels["PLACED"]["dst"])
    assert placed <= set(cut.nodes["Order"]["order_id"])


def test_feature_tables_are_finite_and_aligned(frames):
    fs = build_features(frames)
    assert fs.as_of == max_time(frames) >= int(frames.nodes["Order"]["created_at"].max())
    for label in schema.NODES:
        table = fs.tables[label]
        key = schema.node(label).key
        assert list(table[key]) == list(fs.frames.nodes[label][key].astype(str))
        values = table[fs.names[label]].to_numpy()
        assert values.dtype == np.float32 and np.isfinite(values).all()
        assert len(fs.times[label]) == len(table)
    assert len(fs.names["User"]) >= 30 and "age_days" in fs.names["User"]


def test_empty_graph_gives_the_feature_list():
    from graph_build.frames import GraphFrames

    fs = build_features(GraphFrames(as_of=0))
    assert all(len(t) == 0 for t in fs.tables.values())
    assert fs.names["Order"]
