"""The fast write plan equals writeback.plan_label's, row for row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphgnn.scores.planning import plan_label_fast
from graphgnn.scores.writeback import plan_label


@pytest.mark.parametrize("with_region", [False, True])
def test_fast_plan_equals_plan_label(with_region):
    rng = np.random.default_rng(7)
    n = 2_000
    keys = [f"u{i}" for i in range(n)]
    frame = pd.DataFrame({"user_id": keys, "anomaly_score": rng.random(n)})
    flagged = rng.random(n) < 0.1
    pct = rng.random(n) * 100
    was = {k for k in keys if rng.random() < 0.1} | {"gone"}
    reasons = {k: [f"reason of {k}"] for k in keys[::7]}
    region = {k for k in keys if rng.random() < 0.3} | {"not-in-frame"} if with_region else None
    fast = plan_label_fast("User", frame, flagged, pct, was, reasons, region)
    slow = plan_label("User", frame, flagged, pct, was, reasons, region)
    assert (fast.flag, fast.unflag, fast.keep) == (slow.flag, slow.unflag, slow.keep)
    assert fast.rows > 0 and (not with_region or fast.rows < n)
    # Every flag change is written, inside the region or not.
    changed = sum(f != (k in was) for k, f in zip(keys, flagged, strict=True))
    assert len(fast.flag) + len(fast.unflag) == changed
