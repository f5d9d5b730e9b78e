"""HeteroData of the staged pipeline: shapes, reverse edges, times, masks, normaliser, labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from model_data import frames_of, prepared

from graph_build import schema
from graphgnn.model import hetero
from graphgnn.model import targets as labels
from graphgnn.model.features import build_features


@pytest.fixture(scope="module")
def dm(generated_dir):
    return prepared(generated_dir)


def test_shapes_and_edge_types(dm, generated_dir):
    data = dm.data
    node_types, edge_types = hetero.metadata()
    assert data.node_types == node_types
    assert sorted(data.edge_types) == sorted(edge_types)
    assert len(edge_types) == 2 * len(schema.RELATIONSHIPS) + 1  # + the co-user relation
    for t in node_types:
        assert data[t].x.shape == (data[t].num_nodes, len(dm.meta["feature_names"][t]))
        assert data[t].x.dtype == torch.float32 and torch.isfinite(data[t].x).all()
        assert data[t].time.shape == (data[t].num_nodes,)
        assert len(dm.meta["keys"][t]) == dm.stages["test"][t].num_nodes
    for src, rel, dst in edge_types:
        store = data[src, rel, dst]
        ei = store.edge_index
        assert ei.shape[0] == 2 and store.edge_time.shape == (ei.shape[1],)
        if ei.shape[1]:
            assert int(ei[0].max()) < data[src].num_nodes
            assert int(ei[1].max()) < data[dst].num_nodes
        if not rel.startswith("rev_") and rel != hetero.CO_USER[1]:
            rev = data[dst, f"rev_{rel}", src]
            assert torch.equal(rev.edge_index, ei.flip(0))
            assert torch.equal(rev.edge_time, store.edge_time)
    assert data["User", "PLACED", "Order"].edge_index.shape[1] == data["Order"].num_nodes
    assert dm.in_dims == {t: data[t].x.shape[1] for t in node_types}


def test_each_stage_reads_its_own_snapshot(dm):
    t1, t2, end = dm.meta["t1"], dm.meta["t2"], dm.meta["as_of"]
    assert t1 < t2 <= end
    for stage, cut in (("train", t1), ("val", t2), ("test", end)):
        data = dm.stages[stage]
        assert data.as_of == cut
        for t in hetero.SCORED_TYPES:
            s = data[t]
            assert bool((s.time <= cut).all())
            others = [m for m in ("train_mask", "val_mask", "test_mask") if m != f"{stage}_mask"]
            assert not any(bool(s[m].any()) for m in others)  # one stage's examples per graph
        start = {"train": None, "val": t1, "test": t2}[stage]
        for t in ("User", "Order"):
            s = data[t]
            m = s[f"{stage}_mask"]
            if stage != "test":  # the small fixture's rings all end before its T2
                assert int((s.y[m] == 1).sum()) > 0, (stage, t)
            # validation / test examples are the ones active in their window
            assert start is None or bool((s.time[m] > start).all())
        # an order is an example once: of the stage its own time falls in
        orders = data["Order"]
        t_o = orders.time[orders[f"{stage}_mask"]]
        assert start is None or bool((t_o > start).all())


def test_training_labels_are_those_known_by_t1(dm, generated_dir):
    truth = pd.read_csv(generated_dir / "truth" / "users.csv", dtype={"user_id": str})
    truth = truth.set_index("user_id")
    train = dm.stages["train"]["User"]
    keys = np.array(dm.prepared.stages["train"].fs.tables["User"]["user_id"])
    pos = keys[(train.y == 1).numpy() & train.train_mask.numpy()]
    at = truth.loc[pos, "labeled_at"].to_numpy(np.float64)
    assert len(pos) and bool((at <= dm.meta["t1"]).all())
    # reported later (or never) fraud is not a training positive
    late = truth[(truth["is_fraud"] == 1) & ~(truth["labeled_at"] <= dm.meta["t1"])].index
    assert not set(pos) & set(late)
    # the test stage is judged on the true class
    test = dm.stages["test"]["User"]
    tkeys = np.array(dm.prepared.stages["test"].fs.tables["User"]["user_id"])
    m = test.test_mask.numpy()
    np.testing.assert_array_equal(test.y.numpy()[m], truth.loc[tkeys[m], "is_fraud"].to_numpy())


def test_normaliser_fitted_on_training_period_only(dm):
    data = dm.data  # the training snapshot
    for t in ("User", "Order"):
        fit = data[t].fit_mask
        assert bool(fit.any())
        mean = data[t].x[fit].mean(0)
        # Features constant over the fit rows stay 0; the rest are z-scores of the fit rows.
        assert float(mean.abs().max()) < 0.05
    state = hetero.Normaliser.from_state(dm.meta["normaliser"]).state_dict()
    assert state == dm.meta["normaliser"]


def test_random_split_is_stratified(generated_dir):
    dm = prepared(generated_dir, "random")
    data = dm.data
    assert dm.stages["test"] is data  # one snapshot for every stage
    y = data["User"].y
    rates = [float(y[data["User"][m]].mean()) for m in ("train_mask", "val_mask", "test_mask")]
    assert max(rates) - min(rates) < 0.01


def test_labels_from_truth_align_and_derive(generated_dir):
    fs = build_features(frames_of(generated_dir))
    y = labels.load_labels(fs, generated_dir)
    truth = pd.read_csv(generated_dir / "truth" / "users.csv", dtype={"user_id": str})
    expect = truth.set_index("user_id")["is_fraud"].reindex(fs.tables["User"]["user_id"])
    np.testing.assert_array_equal(y["User"], expect.to_numpy(np.float32))
    assert set(np.unique(y["Device"][~np.isnan(y["Device"])])) <= {0.0, 1.0}
    assert 0 < np.nansum(y["Device"]) < np.sum(~np.isnan(y["Device"]))


def test_verdicts_override_truth(empty_store, generated_dir):
    from graph_build import cypher

    empty_store.write("UNWIND $rows AS r CREATE (:User {user_id: r.k, verdict: r.v})",
                      {"rows": [{"k": "u0000001", "v": "fraud"}, {"k": "u0000002", "v": "legit"},
                                {"k": "u0000003", "v": "unsure"}]})
    assert cypher.load("export/verdicts").template == "scored"
    got = labels.store_verdicts(empty_store)
    assert got["User"].to_dict() == {"u0000001": 1.0, "u0000002": 0.0}
    merged = labels.merge_labels({"User": pd.Series({"u0000001": 0.0, "u0000004": 1.0})}, got)
    assert merged["User"].to_dict() == {"u0000004": 1.0, "u0000001": 1.0, "u0000002": 0.0}
