"""The write plan: the region's nodes plus every flag change, with the run's values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphgnn.scores.writeback import plan_label


@pytest.mark.parametrize("with_region", [False, True])
def test_plan_writes_the_region_and_every_flag_change(with_region):
    rng = np.random.default_rng(7)
    n = 2_000
    keys = [f"u{i}" for i in range(n)]
    frame = pd.DataFrame({"user_id": keys, "anomaly_score": rng.random(n)})
    flagged = rng.random(n) < 0.1
    pct = rng.random(n) * 100
    was = {k for k in keys if rng.random() < 0.1} | {"gone"}
    reasons = {k: [f"reason of {k}"] for k in keys[::7]}
    region = {k for k in keys if rng.random() < 0.3} | {"not-in-frame"} if with_region else None
    plan = plan_label("User", frame, flagged, pct, was, reasons, region)
    written = {r["key"] for r in plan.flag + plan.unflag + plan.keep}
    expected = {k for k, f in zip(keys, flagged, strict=True)
                if region is None or k in region or f != (k in was)}
    assert written == expected
    row = next(r for r in plan.keep + plan.flag if r["key"] == keys[0] or r["key"] in reasons)
    i = keys.index(row["key"])
    assert row == {"key": keys[i], "score": round(float(frame["anomaly_score"][i]), 6),
                   "pct": float(pct[i]), "reasons": reasons.get(keys[i], [])}
    assert plan.rows > 0 and (not with_region or plan.rows < n)
    # Every flag change is written, inside the region or not.
    changed = sum(f != (k in was) for k, f in zip(keys, flagged, strict=True))
    assert len(plan.flag) + len(plan.unflag) == changed
    assert all(flagged[keys.index(r["key"])] and r["key"] not in was for r in plan.flag)
    assert all(not flagged[keys.index(r["key"])] and r["key"] in was for r in plan.unflag)
