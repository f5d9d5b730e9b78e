"""Rescoring scenarios operators hit: late rows, model swaps, threshold changes, as-of."""

from __future__ import annotations

import pandas as pd

from graph_build import schema

from fake_scorer import FakeScorer


def _quiet(_msg: str) -> None:
    pass


def _scores(store) -> dict[tuple[str, str], float]:
    out = {}
    for label in schema.SCORED_LABELS:
        key = schema.node(label).key
        for r in store.read(f"MATCH (n:{label}) RETURN n.{key} AS k, n.anomaly_score AS s"):
            out[(label, r["k"])] = r["s"]
    return out


def _add_late_users(data_dir, n: int = 12) -> list[str]:
    """Users (and their logins) dated long before the latest event: a backfill."""
    users = pd.read_csv(data_dir / "users.csv", dtype=str)
    events = pd.read_csv(data_dir / "events.csv", dtype=str)
    old = events.sort_values("ts").iloc[: n]
    ids = [f"late{i:04d}" for i in range(n)]
    late_users = users.iloc[:n].copy()
    late_users["user_id"] = ids
    late_events = old.copy()
    late_events["user_id"] = ids
    late_events["device_id"] = [f"late-dev-{i // 3}" for i in range(n)]  # shared in threes
    late_users.to_csv(data_dir / "users.csv", mode="a", header=False, index=False)
    late_events.to_csv(data_dir / "events.csv", mode="a", header=False, index=False)
    return ids


def test_late_and_backfilled_rows_are_rescored_and_match_a_full_run(data_copy, empty_store):
    from graph_build.build import build

    from graphgnn.scores.rescore import rescore_once

    store = empty_store
    build(data_copy, store, log=_quiet)
    first = rescore_once(store, FakeScorer(), hub_cutoff=None).result
    ids = _add_late_users(data_copy)
    build(data_copy, store, log=_quiet)
    late = rescore_once(store, FakeScorer(), hub_cutoff=None).result
    assert late.mode == "incremental" and late.as_of == first.as_of  # old events: same as-of
    rows = store.read("MATCH (u:User) WHERE u.user_id IN $ids RETURN u.score_run AS run",
                      {"ids": ids})
    assert len(rows) == len(ids) and all(r["run"] == late.run_id for r in rows)
    assert 0 < late.nodes_scored < late.nodes_in_graph
    incremental = _scores(store)
    full = rescore_once(store, FakeScorer(), full=True).result
    assert full.mode == "full" and full.reason == "requested (--full)"
    assert _scores(store) == incremental  # the increment left every node as a full run does


def test_new_model_version_forces_a_full_run_and_says_why(store):
    from graphgnn.scores.rescore import rescore_once

    rescore_once(store, FakeScorer())
    again = rescore_once(store, FakeScorer()).result
    assert again.mode == "incremental" and again.nodes_scored == 0

    class NewModel(FakeScorer):
        model_version = "fake-2"

    swapped = rescore_once(store, NewModel()).result
    assert swapped.mode == "full" and "model version (fake-1 -> fake-2)" in swapped.reason
    assert swapped.nodes_scored == swapped.nodes_in_graph
    [run] = store.read("MATCH (r:ScoringRun {run_id: $id}) RETURN r.reason AS reason, "
                       "r.model_version AS mv", {"id": swapped.run_id})
    assert run["mv"] == "fake-2" and "fake-2" in run["reason"]
    assert store.read("MATCH (u:User) WHERE u.model_version <> 'fake-2' RETURN count(u) AS c"
                      )[0]["c"] == 0

    class NewStats(NewModel):
        feature_stats = {"User": {"mean": [1.0, 2.0]}}

    restat = rescore_once(store, NewStats()).result
    assert restat.mode == "full" and "feature statistics" in restat.reason


def test_threshold_change_forces_a_full_run(store):
    from graphgnn.scores.rescore import rescore_once
    from graphgnn.scores.threshold import Threshold

    rescore_once(store, FakeScorer(), threshold=Threshold(contamination=0.05))
    lower = rescore_once(store, FakeScorer(), threshold=Threshold(contamination=0.02)).result
    assert lower.mode == "full" and "threshold" in lower.reason
    users = store.read("MATCH (u:User) RETURN count(u) AS n")[0]["n"]
    flagged = store.read("MATCH (u:User:Flagged) RETURN count(u) AS n")[0]["n"]
    assert flagged == lower.flagged["User"] == -(-users * 2 // 100)  # ceil(0.02 * users)


def test_as_of_defaults_to_the_latest_event_and_warns_when_far_from_the_clock(store):
    from graphgnn.scores.ingest import latest_event_time
    from graphgnn.scores.rescore import rescore_once

    logs: list[str] = []
    result = rescore_once(store, FakeScorer(), log=logs.append).result
    assert result.as_of == latest_event_time(store)
    assert any("the latest event in the graph" in m for m in logs)
    logs.clear()
    rescore_once(store, FakeScorer(), full=True, as_of=result.as_of - 400 * 86_400_000,
                 log=logs.append)
    assert any(m.startswith("warning: as-of is") and "before the wall clock" in m
               for m in logs), logs
