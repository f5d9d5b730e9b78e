"""Gradient × input attribution of the GNN score on the shared trained checkpoint."""

from __future__ import annotations

import math

import pytest
import torch

from graph_build import schema


@pytest.fixture(scope="module")
def setup(trained_ckpt, generated_dir):
    from graph_build.read import read_frames
    from graphgnn.model.checkpoint import load_scorer

    scorer = load_scorer(trained_ckpt)
    frames = read_frames(generated_dir)
    scores = scorer.score(frames)
    return scorer, frames, scores


def _two_hop(frames, label: str, key: str) -> set[tuple[str, str]]:
    """(label, key) of every node within two relationship hops of (label, key), any way."""
    adj: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for rel, f in frames.rels.items():
        spec = schema.RELATIONSHIPS[rel]
        for s, d in zip(f["src"].astype(str), f["dst"].astype(str), strict=True):
            adj.setdefault((spec.source, s), set()).add((spec.target, d))
            adj.setdefault((spec.target, d), set()).add((spec.source, s))
    one = adj.get((label, key), set())
    two = set(one)
    for n in one:
        two |= adj.get(n, set())
    return two


def test_attribution_of_top_users(setup):
    scorer, frames, scores = setup
    users = scores["User"].sort_values("anomaly_score", ascending=False)
    top = set(users["user_id"].head(4).astype(str))
    with torch.no_grad():  # scoring code runs under no_grad: attribution must still work
        out = scorer.attribute(frames, {"User": top})
    assert set(out["User"]) == top
    assert not scorer.system.training
    names = set(scorer.feature_names["User"])
    for key, attr in out["User"].items():
        assert attr["features"], key
        assert {name for name, _, _ in attr["features"]} <= names
        assert all(math.isfinite(c) and c != 0 for _, c, _ in attr["features"])
        assert math.isfinite(attr["total"])
        assert 0.0 <= attr["score"] <= 1.0
        near = _two_hop(frames, "User", key)
        for label, k, c in attr["neighbours"]:
            # co-user edges link users that share an entity: also within two hops
            assert (label, k) in near and (label, k) != ("User", key), (key, label, k)
            assert math.isfinite(c)


def test_attribution_is_per_node(setup):
    """A node's attribution does not depend on which other nodes are attributed with it."""
    scorer, frames, scores = setup
    users = scores["User"].sort_values("anomaly_score", ascending=False)
    keys = list(users["user_id"].head(3).astype(str))
    alone = scorer.attribute(frames, {"User": {keys[0]}})["User"][keys[0]]
    together = scorer.attribute(frames, {"User": set(keys)})["User"][keys[0]]
    assert [f[0] for f in alone["features"]] == [f[0] for f in together["features"]]
    assert [f[1] for f in alone["features"]] == pytest.approx(
        [f[1] for f in together["features"]])
    assert alone["total"] == pytest.approx(together["total"])


def test_reasons_include_model_lines(setup):
    from graphgnn.scores.reasons import build_reasons

    scorer, frames, scores = setup
    users = scores["User"].sort_values("anomaly_score", ascending=False)
    flagged = {"User": set(users["user_id"].head(5).astype(str))}
    attributions = scorer.attribute(frames, flagged)
    why = build_reasons(frames, scores, flagged, scorer.feature_names,
                        attributions=attributions)
    for key in flagged["User"]:
        lines = why["User"][key]
        assert 1 <= len(lines) <= 5
        assert any(line.startswith("model: ") for line in lines), lines
