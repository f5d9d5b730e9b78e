"""Evaluation on top of :mod:`graphgnn.model.metrics` (the one ranking-metric definition).

- :func:`ranking`: every ranking metric of the test rows (AUPRC, AUROC, Rec@K, P@100, precision
  and recall at alert budgets of 0.1 / 0.5 / 1 % of the rows, recall at 1 % FPR).
- :func:`by_fraud_type`: the same per fraud type (ring types and lone fraud): that type's
  positives against every legitimate row.
- :func:`ring_match`: rings matched one-to-one at Jaccard >= 0.5 between the planted rings
  (members among the evaluated users; at least ``MIN_RING``) and the groups the product's ring
  detector forms from the method's top-K users (K = positives): precision, recall, F1; every
  planted ring counts, found or not.
- :func:`paired_bootstrap`: 95 % CI of the mean AUPRC difference (product − baseline) over
  datasets and training seeds, resampling each dataset's test rows (the same draw for both).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graphgnn.model import metrics as core

METRICS = ("auprc", "auroc", "recall_at_k", "precision_at_100", *core.names()[4:])
MIN_RING = 3


def ranking(score: np.ndarray, y: np.ndarray, budget: int = 100) -> dict[str, float]:
    """Every metric of :data:`METRICS` (``precision_at_100`` = precision in the top ``budget``)."""
    m = core.ranking(score, y, top_k=budget)
    m["precision_at_100"] = m.pop("precision_at_k")
    return {k: m[k] for k in METRICS}


def by_fraud_type(score: np.ndarray, y: np.ndarray, fraud_type: np.ndarray
                  ) -> dict[str, dict[str, float]]:
    """Metrics per fraud type: that type's positives vs all negatives (``lone_*`` included)."""
    out = {}
    neg = y == 0
    for ft in sorted({f for f in fraud_type[y == 1] if f}):
        rows = neg | ((y == 1) & (fraud_type == ft))
        m = ranking(score[rows], y[rows])
        out[ft] = {"auprc": m["auprc"], "recall_at_1pct": m["recall_at_1pct"],
                   "positives": float((y[rows] == 1).sum())}
    return out


def flagged_groups(links: pd.DataFrame, keys: np.ndarray, score: np.ndarray,
                   within: np.ndarray, k: int) -> list[set[int]]:
    """Groups of the top-``k`` users of ``within`` by ``score`` (the product's ring detector)."""
    from graphgnn.scores.rings import RingOptions, detect_rings

    rows = np.flatnonzero(within)
    top = rows[np.argsort(-score[rows], kind="stable")[:k]]
    flagged = {str(keys[i]): float(score[i]) for i in top}
    pos = pd.Index(keys[rows])  # keys repeat across stages, never within one
    rings = detect_rings(links, flagged, RingOptions(min_size=2, window_ms=10 ** 15))
    return [set(rows[pos.get_indexer(r.members)].tolist()) for r in rings]


def match_rings(groups: list[set[int]], rings: dict[str, np.ndarray], within: np.ndarray,
                min_ring: int = MIN_RING, threshold: float = 0.5) -> dict[str, float]:
    """One-to-one matching (greedy by Jaccard, best first) at Jaccard >= ``threshold``.

    Returns:
        ``ring_precision`` (matched / groups), ``ring_recall`` (matched / planted rings),
        ``ring_f1``, ``rings`` (planted), ``groups``; NaN where a denominator is 0.
    """
    planted = [set(int(m) for m in members if within[m]) for members in rings.values()]
    planted = [r for r in planted if len(r) >= min_ring]
    cand = []
    for i, g in enumerate(groups):
        for j, r in enumerate(planted):
            inter = len(g & r)
            if inter:
                jac = inter / len(g | r)
                if jac >= threshold:
                    cand.append((jac, i, j))
    used_g, used_r = set(), set()
    for _, i, j in sorted(cand, reverse=True):
        if i not in used_g and j not in used_r:
            used_g.add(i)
            used_r.add(j)
    m = len(used_g)
    prec = m / len(groups) if groups else float("nan")
    rec = m / len(planted) if planted else float("nan")
    f1 = 2 * prec * rec / (prec + rec) if np.isfinite(prec) and np.isfinite(rec) and prec + rec \
        else (0.0 if planted and groups else float("nan"))
    return {"ring_precision": prec, "ring_recall": rec, "ring_f1": f1,
            "rings": float(len(planted)), "groups": float(len(groups))}


def ring_match(links: pd.DataFrame, keys: np.ndarray, score: np.ndarray,
               rings: dict[str, np.ndarray], within: np.ndarray, y: np.ndarray
               ) -> dict[str, float]:
    """Ring precision / recall / F1 of one user ranking on the rows of ``within``."""
    if not rings:
        return dict.fromkeys(("ring_precision", "ring_recall", "ring_f1", "rings", "groups"),
                             float("nan"))
    k = int(np.nansum(y[within]))
    return match_rings(flagged_groups(links, keys, score, within, k), rings, within)


def paired_bootstrap(pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]],
                     reps: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 95 % CI of AUPRC(a) − AUPRC(b) over ``pairs`` of ``(a, b, y, dataset id)``.

    Rows are resampled per dataset (one draw shared by every pair of that dataset: training
    seeds are paired too); the statistic is the mean difference over all pairs.
    """
    rng = np.random.default_rng(seed)
    point = float(np.mean([core.average_precision(a, y) - core.average_precision(b, y)
                           for a, b, y, _ in pairs]))
    sizes = {d: len(y) for _, _, y, d in pairs}
    stats = []
    for _ in range(reps):
        draw = {d: rng.integers(0, n, n) for d, n in sizes.items()}
        diffs = []
        for a, b, y, d in pairs:
            i = draw[d]
            if y[i].sum() == 0:
                continue
            diffs.append(core.average_precision(a[i], y[i]) - core.average_precision(b[i], y[i]))
        if diffs:
            stats.append(np.mean(diffs))
    lo, hi = np.percentile(stats, [2.5, 97.5]) if stats else (np.nan, np.nan)
    return point, float(lo), float(hi)
