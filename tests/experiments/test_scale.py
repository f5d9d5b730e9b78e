"""The scale curve end to end at the smallest size: every stage runs in its own process."""

from __future__ import annotations

import csv

from experiments.perf_scale import run_scale
from graph_build.generate import generate


def test_scale_curve_runs_every_stage(tmp_path):
    work, results = tmp_path / "work", tmp_path / "results"
    generate(work / "data-1000", users=1000, seed=3)
    (point,) = run_scale([1000], work=work, results=results)
    assert point["nodes"] > 1000 and point["edges"] > point["nodes"]
    assert point["steps"] >= 1 and point["epoch_s"] > 0 and point["epoch_full_s"] > 0
    # the scoring run wrote every scored node back to the store the build stage made
    assert point["scored"] > 1000 and point["flagged"] > 0
    with open(results / "scale.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["users"]) for r in rows] == [1000]
    assert float(rows[0]["score_write_s"]) > 0
    assert (results / "scale.png").stat().st_size > 0
    with open(results / "perf.csv", newline="") as f:
        names = {r["benchmark"] for r in csv.DictReader(f)}
    assert "scale mini-batch epoch seconds (1k users)" in names
