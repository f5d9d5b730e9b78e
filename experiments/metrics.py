"""Ranking metrics and ring recall, computed on one split's nodes.

- AUPRC (average precision), AUROC, Recall@K with K = number of positives (R-precision) and
  Precision@100 (an investigator's review budget).
- Ring recall: the share of planted rings with at least 3 members in the evaluated split whose
  members are at least half inside one detected group. Groups come from the same ring detector
  for every method (the product's :func:`graphgnn.scores.rings.detect_rings`: connected components of
  the method's top-K flagged users over shared devices, IPs, addresses and cards; hubs ignored),
  with K = number of positives in the split, so methods differ only in whom they flag.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METRICS = ("auprc", "auroc", "recall_at_k", "precision_at_100")
MIN_RING = 3


def ranking(score: np.ndarray, y: np.ndarray, budget: int = 100) -> dict[str, float]:
    """AUPRC, AUROC, Recall@K (K = positives) and Precision@``budget`` of one ranking.

    Args:
        score: ``[N]`` scores, higher = more suspicious (ties broken by position).
        y: ``[N]`` 0/1 labels.
        budget: K of Precision@K.

    Returns:
        The metrics of :data:`METRICS`; NaN when ``y`` has a single class.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y).astype(int)
    score = np.nan_to_num(np.asarray(score, np.float64), nan=0.0, posinf=1e12, neginf=-1e12)
    pos = int(y.sum())
    if pos == 0 or pos == len(y):
        return {m: float("nan") for m in METRICS}
    order = np.argsort(-score, kind="stable")
    k = min(budget, len(y))
    return {"auprc": float(average_precision_score(y, score)),
            "auroc": float(roc_auc_score(y, score)),
            "recall_at_k": float(y[order[:pos]].sum() / pos),
            "precision_at_100": float(y[order[:k]].sum() / k)}


def recovered(groups: list[set[int]], rings: dict[str, np.ndarray], within: np.ndarray,
              min_ring: int = MIN_RING) -> float:
    """Share of truth rings (``>= min_ring`` members inside ``within``) half-covered by a group.

    Args:
        groups: detected groups as sets of row indices.
        rings: truth ring id -> member row indices.
        within: boolean mask of the rows evaluated (members outside it are ignored).
        min_ring: smallest ring counted.

    Returns:
        The share in [0, 1], NaN when no ring qualifies.
    """
    group_of: dict[int, int] = {}
    for g, members in enumerate(groups):
        for m in members:
            group_of[int(m)] = g
    hit = total = 0
    for members in rings.values():
        members = [int(m) for m in members if within[m]]
        if len(members) < min_ring:
            continue
        total += 1
        counts = pd.Series([group_of.get(m, -1) for m in members])
        counts = counts[counts >= 0].value_counts()
        if len(counts) and counts.iloc[0] >= 0.5 * len(members):
            hit += 1
    return hit / total if total else float("nan")


def flagged_groups(links: pd.DataFrame, keys: np.ndarray, score: np.ndarray,
                   within: np.ndarray, k: int) -> list[set[int]]:
    """Groups of the top-``k`` users of ``within`` by ``score`` (the product's ring detector).

    Args:
        links: user-entity links (:func:`graphgnn.scores.rings.entity_links`).
        keys: user keys in row order.
        score: ``[N]`` user scores.
        within: rows that may be flagged.
        k: how many to flag.
    """
    from graphgnn.scores.rings import RingOptions, detect_rings

    rows = np.flatnonzero(within)
    top = rows[np.argsort(-score[rows], kind="stable")[:k]]
    flagged = {str(keys[i]): float(score[i]) for i in top}
    pos = pd.Index(keys)
    rings = detect_rings(links, flagged, RingOptions(min_size=2, window_ms=10 ** 15))
    return [set(pos.get_indexer(r.members).tolist()) for r in rings]


def ring_recall(links: pd.DataFrame, keys: np.ndarray, score: np.ndarray,
                rings: dict[str, np.ndarray], within: np.ndarray, y: np.ndarray) -> float:
    """Ring recall of one user ranking on the rows of ``within`` (K = positives there)."""
    if not rings:
        return float("nan")
    k = int(np.nansum(y[within]))
    return recovered(flagged_groups(links, keys, score, within, k), rings, within)
