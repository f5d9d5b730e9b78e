"""Declared attributes -> numeric features, with the category list frozen at training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from graph_build.frames import GraphFrames
from graph_build.frames_io import load_frames, save_frames
from graphgnn.model.attributes import (
    DAY_MS,
    attribute_features,
    feature_names,
    fit_attribute_encoder,
)

T = 1_767_225_600_000  # 2026-01-01


def _frames(sexes=("F", "M", "F", "X"), as_of=T) -> GraphFrames:
    n = len(sexes)
    users = pd.DataFrame({
        "user_id": [f"u{i}" for i in range(n)],
        "created_at": pd.array([T - DAY_MS] * n, dtype="Int64"),
        "attr_age": pd.array([30.5, None, 41.0, 19.0][:n], dtype="Float64"),
        "attr_is_vip": pd.array([True, False, None, True][:n], dtype="boolean"),
        "attr_first_visit": pd.array([T - 10 * DAY_MS, None, T + DAY_MS, T][:n], dtype="Int64"),
        "attr_sex": pd.array(list(sexes), dtype="string"),
    })
    return GraphFrames(nodes={"User": users}, as_of=as_of, attributes={"User": {
        "age": "numeric", "is_vip": "boolean", "first_visit": "time", "sex": "categorical"}})


def test_each_kind_becomes_numbers():
    frames = _frames()
    encoder = fit_attribute_encoder(frames)
    out = attribute_features(frames, "User", encoder)
    assert list(out.columns) == feature_names(encoder, "User") == [
        "attr_age", "attr_age__missing",
        "attr_first_visit__age_days", "attr_first_visit__missing",
        "attr_is_vip", "attr_is_vip__missing",
        "attr_sex__0", "attr_sex__1", "attr_sex__2", "attr_sex__other"]
    assert (out.dtypes == np.float32).all() and out.index.equals(frames.nodes["User"].index)
    assert out["attr_age"].tolist() == [30.5, 0.0, 41.0, 19.0]
    assert out["attr_age__missing"].tolist() == [0, 1, 0, 0]
    assert out["attr_is_vip"].tolist() == [1, 0, 0, 1]
    assert out["attr_is_vip__missing"].tolist() == [0, 0, 1, 0]
    # Age at T in days; a value after T is not known at T: missing.
    assert out["attr_first_visit__age_days"].tolist() == [10.0, 0.0, 0.0, 0.0]
    assert out["attr_first_visit__missing"].tolist() == [0, 1, 1, 0]
    # Categories by frequency, then by text: F (2), M, X.
    assert encoder["labels"]["User"]["sex"]["categories"] == ["F", "M", "X"]
    assert out[["attr_sex__0", "attr_sex__1", "attr_sex__2"]].to_numpy().argmax(1).tolist() \
        == [0, 1, 0, 2]


def test_categories_are_frozen_and_the_rest_is_other():
    many = pd.Series([f"c{i}" for i in range(12) for _ in range(12 - i)], dtype="string")
    users = pd.DataFrame({"user_id": [f"u{i}" for i in range(len(many))], "attr_sex": many})
    train = GraphFrames(nodes={"User": users}, attributes={"User": {"sex": "categorical"}})
    encoder = fit_attribute_encoder(train, top_n=10)
    assert encoder["labels"]["User"]["sex"]["categories"] == [f"c{i}" for i in range(10)]
    encoder = json.loads(json.dumps(encoder))  # what a checkpoint holds
    # Scoring: new and rare categories go to other, missing to nothing; same columns.
    score = GraphFrames(nodes={"User": pd.DataFrame({
        "user_id": ["a", "b", "c", "d"],
        "attr_sex": pd.array(["c3", "c11", "never seen", None], dtype="string")})},
        as_of=T, attributes={"User": {"sex": "categorical", "new_one": "numeric"}})
    out = attribute_features(score, "User", encoder)
    assert list(out.columns) == feature_names(encoder, "User")  # new_one ignored
    assert out["attr_sex__3"].tolist() == [1, 0, 0, 0]
    assert out["attr_sex__other"].tolist() == [0, 1, 1, 0]
    assert out.iloc[3].sum() == 0


def test_fit_on_training_rows_only():
    frames = _frames(sexes=("F", "M", "M", "X"))
    encoder = fit_attribute_encoder(frames, rows={"User": np.array([True, False, False, True])})
    assert encoder["labels"]["User"]["sex"]["categories"] == ["F", "X"]


def test_per_example_times_and_missing_columns():
    frames = _frames()
    encoder = fit_attribute_encoder(frames)
    times = np.array([T, T, T + 2 * DAY_MS, T - 20 * DAY_MS])
    out = attribute_features(frames, "User", encoder, as_of=times)
    assert out["attr_first_visit__age_days"].tolist() == [10.0, 0.0, 1.0, 0.0]
    assert out["attr_first_visit__missing"].tolist() == [0, 1, 0, 1]
    # A graph without the attribute columns (or without the label) keeps the layout.
    bare = GraphFrames(nodes={"User": frames.nodes["User"][["user_id"]]}, as_of=T)
    out = attribute_features(bare, "User", encoder)
    assert list(out.columns) == feature_names(encoder, "User")
    assert out["attr_age__missing"].tolist() == [1, 1, 1, 1] and out["attr_sex__other"].sum() == 0
    assert attribute_features(GraphFrames(), "User", encoder).shape == (0, 10)
    frames.nodes["Order"] = pd.DataFrame({"order_id": ["o1", "o2", "o3"]})
    assert attribute_features(frames, "Order", encoder).shape == (3, 0)  # none declared


def test_kinds_survive_the_parquet_cache_without_a_declaration(tmp_path):
    frames = _frames()
    save_frames(frames, tmp_path / "cache")
    loaded = load_frames(tmp_path / "cache")
    assert loaded is not None
    loaded.attributes = {}  # the cache does not carry it: dtypes tell the kinds
    assert fit_attribute_encoder(loaded) == fit_attribute_encoder(frames)


def test_a_bad_encoder_is_refused():
    with pytest.raises(ValueError, match="not an attribute encoder"):
        attribute_features(_frames(), "User", {"labels": {}})
