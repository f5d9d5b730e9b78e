"""The rows a scoring run writes for one label, planned without a loop over pandas objects.

:func:`graphgnn.scores.writeback.plan_label` decides, per node, whether it is written and
whether its ``:Flagged`` label changes; it tests membership through pandas string arrays and
walks every node in Python (measured: 1.3 s of a 26 s incremental run at 20k users, most of
it ``Series.isin`` on Arrow strings). :func:`plan_label_fast` returns the same
:class:`~graphgnn.scores.writeback.LabelPlan` — same rows, same order, same values (a test
compares them with ``plan_label``'s) — from plain Python sets and lists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph_build import schema

from graphgnn.scores.writeback import LabelPlan


def plan_label_fast(label: str, frame: pd.DataFrame, flagged: np.ndarray, pct: np.ndarray,
                    was_flagged: set[str], reasons: dict[str, list[str]],
                    region: set[str] | None = None) -> LabelPlan:
    """:func:`graphgnn.scores.writeback.plan_label`, equal row for row (see module doc).

    Args:
        label: the scored label.
        frame: the scorer's frame (key column, ``anomaly_score``).
        flagged: per row, whether this run flags the node.
        pct: per row, the node's percentile in this run.
        was_flagged: keys that carry ``:Flagged`` now.
        reasons: key -> this run's reasons.
        region: keys to write (None: every node); nodes whose flag changes are written too.
    """
    keys = frame[schema.node(label).key].astype(str).tolist()
    scores = frame["anomaly_score"].to_numpy(dtype=float).tolist()
    flags = np.asarray(flagged, dtype=bool).tolist()
    pcts = np.asarray(pct, dtype=float).tolist()
    plan = LabelPlan(label)
    for i, k in enumerate(keys):
        was = k in was_flagged
        if region is not None and k not in region and flags[i] == was:
            continue
        row = {"key": k, "score": round(scores[i], 6), "pct": pcts[i],
               "reasons": reasons.get(k, [])}
        if flags[i] and not was:
            plan.flag.append(row)
        elif not flags[i] and was:
            plan.unflag.append(row)
        else:
            plan.keep.append(row)
    return plan
