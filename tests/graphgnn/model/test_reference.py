"""The training reference: JSON-safe bins in the checkpoint, matching what scoring sees."""

from __future__ import annotations

import json

import numpy as np
import torch

from model_data import frames_of, prepared


def _meta(ckpt) -> dict:
    return torch.load(ckpt, map_location="cpu", weights_only=True)["fraudring"]


def test_checkpoint_carries_the_training_reference(trained_ckpt):
    from graphgnn.scores.monitor import REFERENCE_FORMAT

    meta = _meta(trained_ckpt)
    ref = meta["feature_reference"]
    assert json.loads(json.dumps(ref)) == ref  # JSON-safe: lists, floats, strings only
    assert ref["format"] == REFERENCE_FORMAT and ref["snapshot"] == "test" and ref["scores"]
    assert ref["as_of"] == meta["as_of"]
    for label, names in meta["feature_names"].items():
        if label not in ref["columns"]:
            continue
        cols = ref["columns"][label]
        assert set(cols) == {*names, "anomaly_score"}, label
        assert ref["nodes"][label] > 0
        for col, bins in cols.items():
            assert abs(sum(bins["share"]) - 1.0) < 1e-9, (label, col)
            assert len(bins["share"]) == len(bins["edges"]) + 1
            assert bins["edges"] == sorted(bins["edges"])
            assert bins["lo"] <= bins["hi"]
    assert set(ref["columns"]) == {"User", "Device", "IP", "Order"}
    score = ref["columns"]["Order"]["anomaly_score"]
    assert 0.0 <= score["lo"] <= score["hi"] <= 1.0 and len(score["edges"]) >= 3


def test_scoring_the_training_graph_shows_no_drift(trained_ckpt, generated_dir):
    from graphgnn.model.checkpoint import load_scorer
    from graphgnn.scores.monitor import measure, training_reference

    scorer = load_scorer(trained_ckpt)
    columns, source = training_reference(scorer.meta)
    assert source.startswith("training snapshot (test as of ")
    drift = measure(columns, scorer.score(frames_of(generated_dir)))
    assert len(drift.features) > 50
    assert max(drift.features.values()) < 0.01 and max(drift.outside.values()) == 0.0
    assert max(drift.scores.values()) < 0.01 and set(drift.scores) == set(columns)


def test_reference_leaves_training_state_alone(trained_ckpt, generated_dir):
    from graphgnn.model.checkpoint import load_scorer
    from graphgnn.model.reference import training_reference

    system = load_scorer(trained_ckpt).system
    dm = prepared(generated_dir)
    data = dm.stages["test"]
    x_before = {t: data[t].x for t in data.node_types}
    system.train()
    rng = torch.random.get_rng_state()
    ref = training_reference(system, dm)
    assert system.training  # its mode is restored
    assert torch.equal(torch.random.get_rng_state(), rng)  # training's random stream untouched
    assert all(data[t].x is x_before[t] for t in data.node_types)  # the stage's data too
    assert np.isfinite(ref["columns"]["User"]["anomaly_score"]["hi"])


def test_no_reference_without_prepared_data():
    from graphgnn.model.reference import training_reference

    class Empty:
        stages: dict = {}
        meta: dict = {}

    assert training_reference(None, Empty()) is None


def test_feature_bins_are_computed_once_per_snapshot(generated_dir, monkeypatch):
    """Every improved epoch saves a checkpoint; the bins depend on the data only."""
    import graphgnn.model.reference as reference
    from graphgnn.model.system import System

    dm = prepared(generated_dir)
    system = System(in_dims=dm.in_dims, hidden=8)
    from graphgnn.model.identity_cache import IdentityCache

    monkeypatch.setattr(reference, "_BINS", IdentityCache())  # shared: another test's save
    calls = []
    real = reference.feature_bins
    monkeypatch.setattr(reference, "feature_bins",
                        lambda x, names: calls.append(1) or real(x, names))
    first = reference.training_reference(system, dm)
    computed = len(calls)
    second = reference.training_reference(system, dm)
    assert computed > 0 and len(calls) == computed  # the second save reused the bins
    assert first == second and first["columns"] is not second["columns"]
