"""Scoring pass: thresholds, percentiles, write-back of DESIGN §3 properties, idempotency."""

from __future__ import annotations

import numpy as np
import pytest

from graph_build import schema

from fake_scorer import FakeScorer



def test_threshold_rules():
    from graphgnn.scores.threshold import Threshold

    s = np.array([0.1, 0.9, 0.5, 0.7, 0.2])
    assert Threshold(top_k=2).flags(s).tolist() == [False, True, False, True, False]
    assert Threshold(contamination=0.2).flags(s).sum() == 1
    assert Threshold(contamination=0.0).flags(s).sum() == 0
    assert Threshold(top_k=None, contamination=None, score=0.5).flags(s).sum() == 3
    assert Threshold(top_k=10).flags(s).all()
    with pytest.raises(Exception, match="contamination"):
        Threshold(contamination=1.5)


def test_percentiles_rank_within_label():
    from graphgnn.scores.threshold import percentiles

    p = percentiles(np.array([0.1, 0.4, 0.4, 0.9]))
    assert p.tolist() == [25.0, 75.0, 75.0, 100.0]
    assert len(percentiles(np.array([]))) == 0


def _scored(store, label):
    key = schema.node(label).key
    return store.read(f"MATCH (n:{label}) RETURN n.{key} AS k, n.anomaly_score AS s, "
                      "n.anomaly_pct AS p, n.scored_at AS t, n.model_version AS mv, "
                      "n.score_run AS run, n.reasons AS reasons, n:Flagged AS flagged")


def test_full_pass_writes_every_scored_node_and_run_record(store):
    from graphgnn.scores.scoring import run_scoring
    from graphgnn.scores.threshold import Threshold

    result = run_scoring(store, FakeScorer(), threshold=Threshold(contamination=0.05))
    assert result.status == "succeeded"
    total = 0
    for label in schema.SCORED_LABELS:
        rows = _scored(store, label)
        total += len(rows)
        assert rows and all(r["s"] is not None and 0 <= r["s"] <= 1 for r in rows), label
        assert all(r["run"] == result.run_id and r["mv"] == "fake-1" for r in rows)
        assert all(0 < r["p"] <= 100 for r in rows)
        flagged = [r for r in rows if r["flagged"]]
        assert len(flagged) == int(np.ceil(0.05 * len(rows))), label
        assert all(1 <= len(r["reasons"]) <= 5 for r in flagged)
        # Unflagged nodes carry no reasons, except users the ring detector considers
        # (percentile >= its min_pct): every ring member says what it shares.
        assert all(r["reasons"] == [] for r in rows
                   if not r["flagged"] and (label != "User" or r["p"] < 95.0))
        # flagged nodes are the top scores
        assert min(r["s"] for r in flagged) >= max(r["s"] for r in rows if not r["flagged"])
    assert result.nodes_scored == total
    [run] = store.read("MATCH (r:ScoringRun) RETURN r.status AS status, r.nodes_scored AS n, "
                       "r.mode AS mode, r.as_of AS as_of, r.finished_at AS fin, "
                       "r.started_at AS st, r.model_version AS mv")
    assert run["status"] == "succeeded" and run["n"] == total and run["mode"] == "full"
    assert run["fin"] >= run["st"] and run["mv"] == "fake-1"


def test_top_k_and_unflagging(store):
    from graphgnn.scores.scoring import run_scoring
    from graphgnn.scores.threshold import Threshold

    run_scoring(store, FakeScorer(), threshold=Threshold(top_k=30), rings=False)
    assert store.read("MATCH (n:User:Flagged) RETURN count(n) AS c")[0]["c"] == 30
    result = run_scoring(store, FakeScorer(), threshold=Threshold(top_k=10), rings=False)
    assert store.read("MATCH (n:User:Flagged) RETURN count(n) AS c")[0]["c"] == 10
    assert result.unflagged >= 20 and result.newly_flagged == 0
    stale = store.read("MATCH (n:User) WHERE NOT n:Flagged AND n.flagged_since IS NOT NULL "
                       "RETURN count(n) AS c")
    assert stale[0]["c"] == 0


def test_rerun_is_idempotent(store):
    from graphgnn.scores.scoring import run_scoring

    run_scoring(store, FakeScorer(), as_of=1_800_000_000_000)
    first = {r["k"]: (r["s"], r["p"], r["flagged"], r["reasons"]) for r in _scored(store, "User")}
    rings1 = store.read("MATCH (r:FraudRing) RETURN r.ring_id AS id, r.size AS n ORDER BY id")
    run_scoring(store, FakeScorer(), as_of=1_800_000_000_000)
    second = {r["k"]: (r["s"], r["p"], r["flagged"], r["reasons"]) for r in _scored(store, "User")}
    rings2 = store.read("MATCH (r:FraudRing) RETURN r.ring_id AS id, r.size AS n ORDER BY id")
    assert first == second
    assert rings1 == rings2 and rings1
    assert store.read("MATCH (r:FraudRing) WHERE r.closed_at IS NOT NULL RETURN count(r) AS c"
                      )[0]["c"] == 0


def test_scorer_that_does_not_fit_is_refused(store):
    from graph_build.errors import FraudringError
    from graphgnn.scores.scoring import run_scoring

    class Broken:
        model_version = "broken"

        def score(self, frames, as_of=None):
            raise KeyError("feature 'orders_24h' missing")

    with pytest.raises(FraudringError, match="does not fit"):
        run_scoring(store, Broken())
    [run] = store.read("MATCH (r:ScoringRun) RETURN r.status AS s, r.error AS e")
    assert run["s"] == "failed" and "orders_24h" in run["e"]


def test_score_command_line(store, monkeypatch, capsys):
    """`fraudring score` end to end through the CLI with a (fake) loaded checkpoint."""
    import json

    from graphgnn.cli import main
    from graphgnn.cli import options

    monkeypatch.setattr(options, "load_checkpoint", lambda ckpt: FakeScorer())
    monkeypatch.setenv("FRAUDRING_HOME", str(store.server.home))
    assert main(["score", "--ckpt", "x.ckpt", "--store", "embedded", "--top-k", "25",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["flagged"]["User"] == 25 and out["status"] == "succeeded"
    assert main(["rings", "--top", "3", "--store", "embedded"]) == 0
    assert "ring_id" in capsys.readouterr().out
