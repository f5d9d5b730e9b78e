"""A cheap increment that leaves every node exactly as a full rescore does (the real model)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from graph_build import cypher, read_frames, schema


def _quiet(_msg: str) -> None:
    pass


def _stored(store) -> dict[tuple[str, str], float]:
    return {(label, r["key"]): float(r["score"]) for label in schema.SCORED_LABELS
            for r in store.read(cypher.render("scoring/scores", label=label))}


def _touch(store, fraction: float, at: int, seed: int = 0) -> list[str]:
    """``fraction`` of the users get a new device first seen ``at``, as one ingest."""
    from graph_build.ingest import begin_ingest, finish_ingest

    seq = begin_ingest(store)
    keys = sorted(r["k"] for r in store.read("MATCH (u:User) RETURN u.user_id AS k"))
    chosen = random.Random(seed).sample(keys, max(1, int(fraction * len(keys))))
    store.write_rows(
        "UNWIND $rows AS row MATCH (u:User {user_id: row.u}) "
        "MERGE (d:Device {device_id: row.d}) SET d.first_seen = $at, d.ingest_seq = $seq "
        "MERGE (u)-[r:USED_DEVICE]->(d) SET r.first_seen = $at, r.last_seen = $at, "
        "r.count = 1, r.times = [$at], r.ingest_seq = $seq",
        [{"u": u, "d": f"new-{u}"} for u in chosen], params={"at": at, "seq": seq})
    finish_ingest(store, seq)
    return chosen


def test_fast_scores_equal_the_models_own_forward_pass(generated_dir, trained_ckpt):
    from graphgnn.model.checkpoint import load_scorer

    scorer = load_scorer(trained_ckpt)
    frames = read_frames(generated_dir)
    reference = scorer.score(frames)
    session = scorer.session(frames)
    fast = session.scores()
    for label, frame in reference.items():
        key = schema.node(label).key
        assert list(fast[label][key]) == list(frame[key])
        diff = np.abs(fast[label]["anomaly_score"].to_numpy() - frame["anomaly_score"].to_numpy())
        assert diff.max() <= 1e-6, (label, diff.max())
    flagged = {"User": set(reference["User"].nlargest(5, "anomaly_score")["user_id"])}
    assert session.attribute(flagged) == scorer.attribute(frames, flagged)


@pytest.mark.parametrize("shift_ms", [60_000, -86_400_000])
def test_increment_equals_a_full_rescore_for_every_node(store, trained_ckpt, shift_ms):
    """After 1% of users change — one minute after the latest event (the as-of moves) or a day
    before it (a late row: the as-of stays) — the increment's stored scores are a full run's."""
    from graphgnn.model.checkpoint import load_scorer
    from graphgnn.scores.ingest import latest_event_time
    from graphgnn.scores.rescore import rescore_once

    scorer = load_scorer(trained_ckpt)
    first = rescore_once(store, scorer, log=_quiet).result
    assert first.mode == "full"
    touched = _touch(store, 0.01, latest_event_time(store) + shift_ms)
    logs: list[str] = []
    out = rescore_once(store, scorer, log=logs.append)
    inc = out.result
    assert inc.mode == "incremental"
    assert (inc.as_of > first.as_of) == (shift_ms > 0)
    # The as-of came from the cache and the delta (no store scan): the store's latest event.
    assert inc.as_of == latest_event_time(store)
    assert any("changed since ingest position" in m for m in logs), logs  # delta export
    assert 0 < inc.nodes_scored < inc.nodes_in_graph
    after_increment = _stored(store)
    rows = store.read("MATCH (u:User) WHERE u.user_id IN $ids RETURN u.score_run AS run",
                      {"ids": touched})
    assert {r["run"] for r in rows} == {inc.run_id}  # what was ingested is rewritten
    full = rescore_once(store, scorer, full=True, log=_quiet).result
    assert full.nodes_scored == full.nodes_in_graph
    after_full = _stored(store)
    assert after_increment.keys() == after_full.keys()
    worst = max(abs(after_increment[k] - v) for k, v in after_full.items())
    assert worst <= 1e-6, worst
    # Nothing changed since: the next increment rewrites nothing.
    assert rescore_once(store, scorer, log=_quiet).result.nodes_scored == 0
