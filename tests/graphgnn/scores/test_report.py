"""`fraudring report`: index.html with score, PR, ring-size and ring PNGs and the last runs."""

from __future__ import annotations

import pytest

from fake_scorer import FakeScorer


@pytest.fixture()
def scored(generated_dir, empty_store):
    from graph_build.build import build
    from graphgnn.scores.rescore import rescore_once

    build(generated_dir, empty_store, log=lambda m: None)
    rescore_once(empty_store, FakeScorer())
    return empty_store


def test_report_with_truth(scored, tmp_path, generated_dir, monkeypatch):
    from graphgnn.cli import main

    monkeypatch.setenv("FRAUDRING_HOME", str(scored.server.home))
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--data", str(generated_dir), "--top", "1",
                 "--store", "embedded"]) == 0
    text = (out / "index.html").read_text()
    for png in ("scores.png", "pr_curve.png", "ring_sizes.png", "ring_1.png"):
        assert (out / png).stat().st_size > 1000, png
        assert png in text
    assert "Last scoring runs" in text and "AUPRC" in text and "succeeded" in text


def test_report_uses_verdicts_without_truth(scored, tmp_path):
    from graphgnn.scores.report import build_report

    users = scored.read("MATCH (u:User) RETURN u.user_id AS k, u:Flagged AS f LIMIT 400")
    rows = [{"k": u["k"], "v": "fraud" if u["f"] else "legit"} for u in users]
    rows[0]["v"] = "fraud"
    rows[1]["v"] = "legit"
    scored.write_rows("UNWIND $rows AS row MATCH (u:User {user_id: row.k}) SET u.verdict = row.v",
                      rows)
    index = build_report(scored, tmp_path / "r", data_dir=None, top=1)
    assert (tmp_path / "r" / "pr_curve.png").is_file()
    assert "User" in index.read_text()


def test_report_on_an_unscored_store(empty_store, tmp_path):
    from graphgnn.scores.report import build_report

    index = build_report(empty_store, tmp_path / "r")
    assert "0 open" in index.read_text()


def test_report_has_legend_more_reasons_and_verdicts(scored, tmp_path):
    from graph_build import cypher
    from graph_build.query import run_query
    from graphgnn.scores.report import build_report

    ring = scored.read("MATCH (r:FraudRing) WHERE r.closed_at IS NULL RETURN r.ring_id AS id "
                       "ORDER BY r.score DESC, r.size DESC LIMIT 1")[0]["id"]
    members = scored.read("MATCH (u:User)-[:MEMBER_OF]->(:FraudRing {ring_id: $id}) "
                          "RETURN u.user_id AS id, u.reasons AS reasons ORDER BY "
                          "u.anomaly_score DESC", {"id": ring})
    run_query(scored, file=cypher.CYPHER_DIR / "investigate/set_verdict.cypher", params={
        "user_id": members[0]["id"], "verdict": "fraud", "by": "ann", "note": "checked"},
        allow_write=True)
    text = build_report(scored, tmp_path / "r", top=1).read_text()
    for kind in ("device", "IP", "card", "address", "user above the ring percentile"):
        assert kind in text, kind
    assert "more rings" in text  # one drawn of several: the rest announced
    assert "fraud (ann)" in text  # the verdict in the members table
    assert "Investigators&#x27; decisions" in text or "Investigators' decisions" in text
    assert "checked" in text
    reason = next(r for m in members for r in (m["reasons"] or []))
    assert reason.split(" with ")[0] in text
    assert (tmp_path / "r" / "ring_1.png").stat().st_size > 5000
