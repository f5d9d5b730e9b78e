"""HeteroData from features: shapes, reverse edges, times, masks, normaliser, labels."""

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
    assert len(edge_types) == 2 * len(schema.RELATIONSHIPS)
    for t in node_types:
        assert data[t].x.shape == (data[t].num_nodes, len(dm.meta["feature_names"][t]))
        assert data[t].x.dtype == torch.float32 and torch.isfinite(data[t].x).all()
        assert data[t].time.shape == (data[t].num_nodes,)
        assert len(dm.meta["keys"][t]) == data[t].num_nodes
    for src, rel, dst in edge_types:
        store = data[src, rel, dst]
        ei = store.edge_index
        assert ei.shape[0] == 2 and store.edge_time.shape == (ei.shape[1],)
        if ei.shape[1]:
            assert int(ei[0].max()) < data[src].num_nodes
            assert int(ei[1].max()) < data[dst].num_nodes
        if not rel.startswith("rev_"):
            rev = data[dst, f"rev_{rel}", src]
            assert torch.equal(rev.edge_index, ei.flip(0))
            assert torch.equal(rev.edge_time, store.edge_time)
    assert data["User", "PLACED", "Order"].edge_index.shape[1] == data["Order"].num_nodes
    assert dm.in_dims == {t: data[t].x.shape[1] for t in node_types}


def test_masks_are_disjoint_and_temporal(dm):
    data, t1, t2 = dm.data, dm.meta["t1"], dm.meta["t2"]
    assert t1 < t2 <= dm.meta["as_of"]
    for t in hetero.SCORED_TYPES:
        s = data[t]
        total = s.train_mask.int() + s.val_mask.int() + s.test_mask.int()
        assert int(total.max()) <= 1
        assert bool((total == 1).eq(s.y >= 0).all())  # every labelled node in one split
        assert bool((s.first_time[s.train_mask] <= t1).all())
        assert bool((s.first_time[s.val_mask] > t1).all())
        assert bool((s.first_time[s.test_mask] > t2).all())
    for t in ("User", "Order"):
        for m in ("train_mask", "val_mask", "test_mask"):
            assert int((data[t].y[data[t][m]] == 1).sum()) > 0, (t, m)


def test_normaliser_fitted_on_training_period_only(dm):
    data = dm.data
    for t in ("User", "Order"):
        fit = data[t].fit_mask
        assert bool(fit.any()) and not bool((fit & (data[t].val_mask | data[t].test_mask)).any())
        mean = data[t].x[fit].mean(0)
        # Features constant over the fit rows stay 0; the rest are z-scores of the fit rows.
        assert float(mean.abs().max()) < 0.05
    state = hetero.Normaliser.from_state(dm.meta["normaliser"]).state_dict()
    assert state == dm.meta["normaliser"]


def test_random_split_is_stratified(generated_dir):
    data = prepared(generated_dir, "random").data
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
