"""The point-in-time training table: a training example's inputs come from the graph at T1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from model_data import frames_of

from graphgnn.model import targets
from graphgnn.model.prepare import prepare_graph

DAY = 86_400_000


@pytest.fixture(scope="module")
def base(generated_dir):
    frames = frames_of(generated_dir)
    dated = targets.dated_labels(generated_dir)
    return frames, dated, prepare_graph(frames, dated, maturity_days=7)


def _move_after(frames, user: str, t1: int, shift: int):
    """Shift every event of ``user`` after ``t1`` by ``shift`` ms (they stay after T1)."""
    f = frames_of_copy(frames)
    orders = set(f.rels["PLACED"].loc[f.rels["PLACED"]["src"] == user, "dst"])
    o = f.nodes["Order"]
    late = o["order_id"].isin(orders) & (o["created_at"].astype("int64") > t1)
    o.loc[late, "created_at"] = o.loc[late, "created_at"].astype("int64") + shift
    for frame in f.rels.values():
        col = "first_seen" if "first_seen" in frame else "created_at"
        if col not in frame or not len(frame):
            continue
        mine = frame["src"].isin(orders) | (frame["src"] == user)
        t = pd.to_numeric(frame[col], errors="coerce")
        moved = mine & (t > t1)
        frame.loc[moved, col] = t[moved].astype("int64") + shift
    return f


def frames_of_copy(frames):
    import copy

    return copy.deepcopy(frames)


def test_moving_a_training_users_later_events_changes_none_of_its_training_inputs(base):
    frames, dated, p = base
    t1 = p.split.t1
    train = p.data("train")
    keys = p.stages["train"].fs.tables["User"]["user_id"].to_numpy()
    placed = frames.rels["PLACED"]
    late = placed[placed["created_at"].astype("int64") > t1]
    candidates = [u for u in late["src"].unique()
                  if u in set(keys[train["User"].train_mask.numpy()])]
    assert candidates, "fixture has no training user active after T1"
    user = candidates[0]
    moved = prepare_graph(_move_after(frames, user, t1, 3 * DAY), dated, maturity_days=7)
    assert moved.split.t1 == t1
    before, after = train, moved.data("train")
    for t in before.node_types:
        assert torch.equal(before[t].x, after[t].x), t
        for name in ("y", "train_mask", "time"):
            if name in before[t]:
                assert torch.equal(before[t][name], after[t][name]), (t, name)
    for et in before.edge_types:
        assert torch.equal(before[et].edge_index, after[et].edge_index), et
    # ... while the same change is visible at the end, where that user is read for scoring
    row = list(p.stages["test"].fs.tables["User"]["user_id"]).index(user)
    end_before = p.data("test")["User"].x[row]
    end_after = moved.data("test")["User"].x[row]
    assert not torch.equal(end_before, end_after)


def test_orders_are_read_as_of_their_own_time(base):
    _, _, p = base
    o_val = p.stages["val"].fs.tables["Order"].set_index("order_id")
    o_end = p.stages["test"].fs.tables["Order"].set_index("order_id")
    common = o_val.index.intersection(o_end.index)
    # (the label-aware columns read the labels known at each snapshot's window start: they may
    # differ; everything else describes the order at its own time)
    own = [c for c in o_val.columns if "_prior_fraud" not in c and "_prior_labelled" not in c]
    np.testing.assert_allclose(o_val.loc[common, own].to_numpy(),
                               o_end.loc[common, own].to_numpy(), atol=1e-5)


def test_label_aware_features_read_training_labels_only(base):
    _, dated, p = base
    known = p.known["User"]
    assert len(known) and set(known.index) <= set(dated["User"].index)
    at = dated["User"].loc[known.index, "labeled_at"]
    assert bool((at.isna() | (at <= p.split.t2)).all())  # scoring reads what test read
    # the training snapshot's label-aware inputs never carry an example's own label: the
    # training examples are the users not yet reported when the window opened
    train = p.data("train")["User"]
    keys = p.stages["train"].fs.tables["User"]["user_id"].to_numpy()
    t0 = p.split.t1 - int(p.meta["label_window_days"] * DAY)
    early = dated["User"][dated["User"]["labeled_at"] <= t0].index
    assert not set(keys[train.train_mask.numpy()]) & set(early)
    assert p.meta["known_labels"]["User"] == {k: float(v) for k, v in known.items()}
