"""Kill -9 trials (``experiments/crash_trials.py``) with a small count: one of each phase."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_write_and_leaves_one_server(tmp_path):
    from experiments.crash_trials import run_trials

    rows = run_trials(count=3, users=1000, seed=11, work=tmp_path)
    assert {r["phase"] for r in rows} == {"build", "score", "verdict"}
    assert sum(r["killed"] != "none" for r in rows) >= 2  # the draws do land inside the runs
    for row in rows:
        assert row["ok"], row
        assert row["lost"] == 0 and row["servers_after"] == 1 and row["opens"]
